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
 * Accepting them silently would let an operator believe auth or a rate limit is on when it is not,
 * so each one stops the start with a message naming the field.
 */
function rejectUnimplemented(config: FileConfig): void {
  const notYet: string[] = [];
  if (config.embeddings !== undefined) notYet.push("embeddings (vector search)");
  if (config.storage.mode !== "embedded") notYet.push(`storage.mode=${config.storage.mode}`);
  if (config.auth.mode !== "none") notYet.push(`auth.mode=${config.auth.mode}`);
  if (config.rateLimit !== undefined) notYet.push("rateLimit");
  if (config.skills.length > 0) notYet.push("skills");
  if (config.skillHosts.length > 0) notYet.push("skillHosts");
  if (notYet.length > 0) {
    throw new ConfigError(`config: not implemented in this version, remove or unset: ${notYet.join(", ")}`);
  }
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
  checkRules(file);
  let modelApiKey: string | undefined;
  if (file.model.apiKeyEnv !== undefined) {
    modelApiKey = env[file.model.apiKeyEnv];
    if (modelApiKey === undefined || modelApiKey === "") {
      throw new ConfigError(`config field model.apiKeyEnv: environment variable ${file.model.apiKeyEnv} is not set`);
    }
  }
  return {
    ...file,
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
