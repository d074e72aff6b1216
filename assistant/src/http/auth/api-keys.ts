import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import { ConfigError } from "../../config/load.js";
import type { ApiKeyDocument, AuthConfig } from "../../config/schema.js";
import { parseKeyFile, readKeyFiles } from "./api-key-file.js";

export interface ApiKey {
  name: string;
  tenant: string;
  user: string;
  /** SHA-256 of the key: the plaintext is never kept. */
  digest: Buffer;
}

export interface ApiKeys {
  /** The key `presented` is, if any. */
  match(presented: string): ApiKey | undefined;
  /** Stops re-reading `auth.apiKeysDir`. */
  close(): void;
}

const sha256 = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

function toApiKey(name: string, document: ApiKeyDocument): ApiKey {
  return {
    name,
    tenant: document.tenant,
    user: document.user ?? name,
    // The schema's oneOf makes a document without `key` one with `keySha256`, which its type cannot say.
    digest: document.key === undefined ? Buffer.from(document.keySha256 as string, "hex") : sha256(document.key),
  };
}

/**
 * Two names for one key value would make the identity depend on which is found first, so all of
 * them are refused until the keys are made distinct.
 */
function distinct(keys: ApiKey[], logger: FastifyBaseLogger): ApiKey[] {
  const byDigest = new Map<string, ApiKey[]>();
  for (const key of keys) {
    const hex = key.digest.toString("hex");
    byDigest.set(hex, [...(byDigest.get(hex) ?? []), key]);
  }
  const groups = [...byDigest.values()];
  for (const group of groups) {
    if (group.length > 1) logger.error({ keyNames: group.map((key) => key.name) }, "api keys share one key value; all of them are refused");
  }
  return groups.flatMap((group) => (group.length === 1 ? group : []));
}

/** Compares with every key, each in constant time, so neither a match nor its position shows in the timing. */
function matchIn(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const digest = sha256(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest) && found === undefined) found = key;
  }
  return found;
}

function fromFiles(files: Map<string, string>, logger: FastifyBaseLogger): ApiKey[] {
  return [...files].flatMap(([name, text]) => {
    try {
      return [toApiKey(name, parseKeyFile(name, text))];
    } catch (error) {
      logger.error({ keyName: name, problem: (error as Error).message }, "api key file refused");
      return [];
    }
  });
}

const fingerprint = (files: Map<string, string>): string => createHash("sha256").update(JSON.stringify([...files])).digest("hex");

/**
 * The inline `auth.apiKeys` plus one key per file in `auth.apiKeysDir`. The folder is a mounted
 * Secret that the kubelet updates in place, so it is re-read every `apiKeysReloadSeconds`: a new key
 * works and a removed one stops working without a restart. A file that does not parse is refused
 * (logged by name) while the others stay valid, so revoking one key never waits for another to be fixed.
 */
export async function loadApiKeys(config: AuthConfig, logger: FastifyBaseLogger): Promise<ApiKeys> {
  const inline = config.apiKeys.map(({ name, ...document }) => toApiKey(name, document));
  const dir = config.apiKeysDir;
  let keys = distinct(inline, logger);
  if (dir === undefined) return { match: (presented) => matchIn(keys, presented), close: () => undefined };

  let files: Map<string, string>;
  try {
    files = await readKeyFiles(dir);
  } catch (error) {
    throw new ConfigError(`config field auth.apiKeysDir: cannot read ${dir}: ${(error as Error).message}`);
  }
  let loaded = "";
  const apply = (next: Map<string, string>): void => {
    const print = fingerprint(next);
    if (print === loaded) return;
    loaded = print;
    keys = distinct([...inline, ...fromFiles(next, logger)], logger);
    logger.info({ dir, keyNames: keys.map((key) => key.name) }, "api keys loaded");
  };
  apply(files);

  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    readKeyFiles(dir)
      .then(apply, (error: unknown) => {
        logger.warn({ dir, problem: (error as Error).message }, "api keys: cannot re-read the folder; the keys loaded before stay valid");
      })
      .finally(() => {
        reading = false;
      });
  }, config.apiKeysReloadSeconds * 1000);
  timer.unref();
  return {
    match: (presented) => matchIn(keys, presented),
    close: () => {
      clearInterval(timer);
    },
  };
}
