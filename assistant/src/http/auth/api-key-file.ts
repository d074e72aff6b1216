import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { apiKeyDocumentSchema, type ApiKeyDocument } from "../../config/schema.js";
import { LOCAL_OWNER } from "../../storage/types.js";

/**
 * The value of one Secret key in `auth.apiKeysDir`, in one of three forms:
 *
 * - a YAML or JSON document `{keySha256 | key, tenant, user?}` (the full form);
 * - `sha256:<64 hex>`, the digest of the key;
 * - the key itself (at least 16 characters of the RFC 6750 token alphabet).
 *
 * The two short forms are what the AIAssistant API documents for `auth.apiKeysSecretRef`; they
 * belong to tenant `default` and a user named like the Secret key.
 */
const DIGEST = /^sha256:([0-9a-f]{64})$/;
const BARE_KEY = /^[A-Za-z0-9._~+/=-]{16,4096}$/;

const validateDocument = new Ajv({ allErrors: false, strict: true, strictRequired: false }).compile<ApiKeyDocument>(apiKeyDocumentSchema);

class InvalidKeyFileError extends Error {
  override readonly name = "InvalidKeyFileError";
}

/** Never quotes the text: it may hold a key. */
export function parseKeyFile(name: string, text: string): ApiKeyDocument {
  const value = text.trim();
  const digest = DIGEST.exec(value)?.[1];
  if (digest !== undefined) return { keySha256: digest, tenant: LOCAL_OWNER.tenant, user: name };
  if (BARE_KEY.test(value)) return { key: value, tenant: LOCAL_OWNER.tenant, user: name };
  let document: unknown;
  try {
    document = parse(value);
  } catch {
    throw new InvalidKeyFileError("neither a key, sha256:<hex> nor a YAML document");
  }
  if (!validateDocument(document)) {
    const error = validateDocument.errors?.[0];
    throw new InvalidKeyFileError(`not a valid key document: ${error?.instancePath ?? ""} ${error?.message ?? "invalid"}`.replace(/ {2,}/, " "));
  }
  return document;
}

/**
 * The visible files of a mounted Secret, by name. Kubernetes mounts each key as a symlink into a
 * hidden, timestamped folder (`..data`) that it swaps on update, so hidden entries are skipped and
 * links are followed. A Secret holds at most 1 MiB, which bounds what is read.
 */
export async function readKeyFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).filter((entry) => !entry.startsWith(".")).sort()) {
    const path = join(dir, name);
    if ((await stat(path)).isFile()) files.set(name, await readFile(path, "utf8"));
  }
  return files;
}
