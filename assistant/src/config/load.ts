import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { parse } from "yaml";
import { configSchema, type AssistantConfig, type FileConfig } from "./schema.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.split("/").filter(Boolean);
  if (error.keyword === "additionalProperties") path.push(String(error.params["additionalProperty"]));
  if (error.keyword === "required") path.push(String(error.params["missingProperty"]));
  return path.length > 0 ? path.join(".") : "(root)";
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false });
const validate = ajv.compile(configSchema);

/**
 * Keys that are part of the shared configuration contract but whose behaviour is not built yet.
 * Accepting them silently would let an operator believe a feature is on when it is not, so each one
 * stops the start with a message naming the field.
 */
function rejectUnimplemented(config: FileConfig): void {
  const notYet: string[] = [];
  if (config.embeddings !== undefined) notYet.push("embeddings (vector search)");
  if (config.storage.mode !== "embedded") notYet.push(`storage.mode=${config.storage.mode}`);
  if (config.skills.length > 0) notYet.push("skills");
  if (config.skillHosts.length > 0) notYet.push("skillHosts");
  if (notYet.length > 0) {
    throw new ConfigError(`config: not implemented in this version, remove or unset: ${notYet.join(", ")}`);
  }
}

/** What the schema alone cannot say: each auth mode needs its credentials' source. */
function checkAuth({ mode, apiKeysDir, apiKeys, oidc }: FileConfig["auth"]): void {
  if ((mode === "apiKey" || mode === "apiKeyAndOIDC") && apiKeysDir === undefined && apiKeys.length === 0) {
    throw new ConfigError(`config field auth.apiKeysDir: auth.mode ${mode} needs apiKeysDir or apiKeys`);
  }
  if ((mode === "oidc" || mode === "apiKeyAndOIDC") && oidc === undefined) {
    throw new ConfigError(`config field auth.oidc: auth.mode ${mode} needs oidc`);
  }
}

/**
 * An idle connection is one where neither side sends anything: a stream sends its heartbeat and a
 * plain reply waits for the model, so both must fit inside the idle timeout or it would cut them.
 * Unset, it is 10 minutes or, for a slower model, the model's longest wait plus a minute.
 */
function idleTimeout({ server, model }: FileConfig): number {
  const modelWorstCase = model.timeoutMs * (model.maxRetries + 1);
  const idle = server.connectionTimeoutMs;
  if (idle === undefined) return Math.max(600000, modelWorstCase + 60000);
  if (idle === 0) return idle;
  if (idle <= server.sseHeartbeatMs) {
    throw new ConfigError(`config field server.connectionTimeoutMs: must exceed server.sseHeartbeatMs (${server.sseHeartbeatMs})`);
  }
  if (idle <= modelWorstCase) {
    throw new ConfigError(`config field server.connectionTimeoutMs: must exceed model.timeoutMs × (model.maxRetries + 1) = ${modelWorstCase}`);
  }
  return idle;
}

function checkRules(config: FileConfig): void {
  config.privacy.rules.forEach((rule, index) => {
    try {
      new RegExp(rule.pattern, rule.flags);
    } catch (error) {
      throw new ConfigError(`config field privacy.rules.${index}.pattern: invalid regular expression (${(error as Error).message})`);
    }
  });
}

function port(env: NodeJS.ProcessEnv): number {
  const raw = env["PORT"] ?? "8080";
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 65535) throw new ConfigError(`env PORT: must be an integer 0..65535, got "${raw}"`);
  return value;
}

/** Validates a parsed YAML document plus the environment into the running configuration. */
export function buildConfig(document: unknown, env: NodeJS.ProcessEnv): AssistantConfig {
  const candidate: unknown = document ?? {};
  if (!validate(candidate)) {
    const messages = (validate.errors ?? []).map((error) => `config field ${fieldOf(error)}: ${error.message ?? "invalid"}`);
    throw new ConfigError([...new Set(messages)].join("; "));
  }
  // The schema validated above and FileConfig describe the same shape; defaults have been filled in.
  const file = candidate as FileConfig;
  rejectUnimplemented(file);
  checkAuth(file.auth);
  checkRules(file);
  const server = { ...file.server, connectionTimeoutMs: idleTimeout(file) };
  let modelApiKey: string | undefined;
  if (file.model.apiKeyEnv !== undefined) {
    modelApiKey = env[file.model.apiKeyEnv];
    if (modelApiKey === undefined || modelApiKey === "") {
      throw new ConfigError(`config field model.apiKeyEnv: environment variable ${file.model.apiKeyEnv} is not set`);
    }
  }
  return {
    ...file,
    server,
    port: port(env),
    host: env["HOST"] ?? "0.0.0.0",
    dataDir: resolve(env["DATA_DIR"] ?? "./data"),
    ...(modelApiKey === undefined ? {} : { modelApiKey }),
  };
}

/** Reads `ASSISTANT_CONFIG` (optional) and the environment. */
export function loadConfig(env: NodeJS.ProcessEnv): AssistantConfig {
  const path = env["ASSISTANT_CONFIG"];
  let document: unknown = {};
  if (path !== undefined && path !== "") {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(`ASSISTANT_CONFIG: cannot read ${path}: ${(error as Error).message}`);
    }
    try {
      document = parse(text);
    } catch (error) {
      throw new ConfigError(`ASSISTANT_CONFIG: ${path} is not valid YAML: ${(error as Error).message}`);
    }
  }
  return buildConfig(document, env);
}
