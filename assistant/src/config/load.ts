import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { parse } from "yaml";
import { configSchema, type AssistantConfig, type FileConfig } from "./schema.js";
import { hostPortOf } from "./skill-hosts.js";

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
const schemaChecker = new Ajv({ strict: false });


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
 * A streamed reply's attempts each wait up to model.timeoutMs for the model; a plain reply waits
 * up to model.answerTimeoutMs for its whole answer, all attempts together. Unset, it is 10 minutes
 * or, for a slower model, the longer of those waits plus a minute.
 */
function idleTimeout({ server, model }: FileConfig): number {
  const attemptsWorstCase = model.timeoutMs * (model.maxRetries + 1);
  const idle = server.connectionTimeoutMs;
  if (idle === undefined) return Math.max(600000, Math.max(attemptsWorstCase, model.answerTimeoutMs) + 60000);
  if (idle === 0) return idle;
  if (idle <= server.sseHeartbeatMs) {
    throw new ConfigError(`config field server.connectionTimeoutMs: must exceed server.sseHeartbeatMs (${server.sseHeartbeatMs})`);
  }
  if (idle <= attemptsWorstCase) {
    throw new ConfigError(`config field server.connectionTimeoutMs: must exceed model.timeoutMs × (model.maxRetries + 1) = ${attemptsWorstCase}`);
  }
  if (idle <= model.answerTimeoutMs) {
    throw new ConfigError(`config field server.connectionTimeoutMs: must exceed model.answerTimeoutMs (${model.answerTimeoutMs})`);
  }
  return idle;
}

function checkChunking({ knowledge }: FileConfig): void {
  if (knowledge.chunkOverlapChars >= knowledge.chunkChars) {
    throw new ConfigError(
      `config field knowledge.chunkOverlapChars: must be less than knowledge.chunkChars (${String(knowledge.chunkChars)}), got ${String(knowledge.chunkOverlapChars)}`,
    );
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

/** The value of a `*Env` key's variable, which must be set. */
function secretFrom(env: NodeJS.ProcessEnv, name: string, field: string): string {
  const value = env[name];
  if (value === undefined || value === "") throw new ConfigError(`config field ${field}: environment variable ${name} is not set`);
  return value;
}

/** A command names a skill by `/name`, and `/confirm name` confirms one, so no skill may be called that. */
const RESERVED_SKILL_NAMES = new Set(["confirm"]);

/**
 * What the schema alone cannot say about skills: unique names, endpoints on allow-listed hosts,
 * parameters that are an object JSON Schema, and the Authorization values, resolved here so a missing
 * Secret stops the start. Returns those values by skill name.
 */
function checkSkills({ skills, skillHosts }: FileConfig, env: NodeJS.ProcessEnv): Record<string, string> {
  const allowed = new Set(skillHosts.map((host) => host.toLowerCase()));
  const seen = new Set<string>();
  const authorizations: Record<string, string> = {};
  skills.forEach((skill, index) => {
    const field = `config field skills.${index}`;
    if (seen.has(skill.name)) throw new ConfigError(`${field}.name: duplicate skill name ${skill.name}`);
    seen.add(skill.name);
    if (RESERVED_SKILL_NAMES.has(skill.name)) throw new ConfigError(`${field}.name: ${skill.name} is reserved for commands`);
    const url = new URL(skill.endpoint.url);
    if (url.username !== "" || url.password !== "") {
      throw new ConfigError(`${field}.endpoint.url: credentials in the URL would sit in a ConfigMap, use authorizationEnv`);
    }
    if (!allowed.has(hostPortOf(url))) throw new ConfigError(`${field}.endpoint.url: host ${hostPortOf(url)} is not in skillHosts`);
    if (skill.parameters !== undefined) {
      if (skill.parameters["type"] !== "object") throw new ConfigError(`${field}.parameters: must be a JSON Schema with type: object`);
      if (!schemaChecker.validateSchema(skill.parameters)) {
        throw new ConfigError(`${field}.parameters: not a valid JSON Schema (${schemaChecker.errorsText(schemaChecker.errors)})`);
      }
    }
    if (skill.authorizationEnv !== undefined) authorizations[skill.name] = secretFrom(env, skill.authorizationEnv, `skills.${index}.authorizationEnv`);
  });
  return authorizations;
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
  // FileConfig is the type of the schema validated above, with its defaults filled in.
  const file = candidate as FileConfig;
  checkAuth(file.auth);
  checkRules(file);
  checkChunking(file);
  const skillAuthorizations = checkSkills(file, env);
  const server = { ...file.server, connectionTimeoutMs: idleTimeout(file) };
  const modelApiKey = file.model.apiKeyEnv === undefined ? undefined : secretFrom(env, file.model.apiKeyEnv, "model.apiKeyEnv");
  const databaseUrl = file.storage.mode === "postgres" ? secretFrom(env, file.storage.urlEnv ?? "DATABASE_URL", "storage.urlEnv") : undefined;
  const embeddingsKeyEnv = file.embeddings?.apiKeyEnv;
  const embeddingsApiKey = embeddingsKeyEnv === undefined ? undefined : secretFrom(env, embeddingsKeyEnv, "embeddings.apiKeyEnv");
  return {
    ...file,
    server,
    port: port(env),
    host: env["HOST"] ?? "0.0.0.0",
    dataDir: resolve(env["DATA_DIR"] ?? "./data"),
    skillAuthorizations,
    ...(modelApiKey === undefined ? {} : { modelApiKey }),
    ...(embeddingsApiKey === undefined ? {} : { embeddingsApiKey }),
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
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
