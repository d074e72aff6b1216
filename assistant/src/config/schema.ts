/**
 * The one JSON Schema for the assistant's YAML configuration. The operator renders this file into a
 * ConfigMap, so every object is closed (`additionalProperties: false`): a typo fails at start instead
 * of being silently ignored.
 */
export const configSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    model: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        provider: { enum: ["extractive", "openai"], default: "extractive" },
        baseURL: { type: "string", minLength: 1 },
        name: { type: "string", minLength: 1 },
        apiKeyEnv: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
        timeoutMs: { type: "integer", minimum: 100, maximum: 600000, default: 60000 },
        maxRetries: { type: "integer", minimum: 0, maximum: 10, default: 2 },
        temperature: { type: "number", minimum: 0, maximum: 2 },
        topP: { type: "number", minimum: 0, maximum: 1 },
        maxTokens: { type: "integer", minimum: 1, maximum: 1000000 },
        readinessCacheMs: { type: "integer", minimum: 0, maximum: 600000, default: 10000 },
      },
      if: { properties: { provider: { const: "openai" } }, required: ["provider"] },
      then: { required: ["baseURL", "name"] },
    },
    embeddings: {
      type: "object",
      additionalProperties: false,
      properties: {
        baseURL: { type: "string", minLength: 1 },
        model: { type: "string", minLength: 1 },
        apiKeyEnv: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
      },
    },
    storage: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        mode: { enum: ["embedded", "postgres"], default: "embedded" },
        urlEnv: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
        synchronous: { enum: ["normal", "full"], default: "normal" },
      },
    },
    auth: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        mode: { enum: ["none", "apiKey", "oidc"], default: "none" },
        apiKeys: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "tenant"],
            properties: {
              name: { type: "string", minLength: 1 },
              key: { type: "string", minLength: 1 },
              keySha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
              tenant: { type: "string", minLength: 1 },
              user: { type: "string", minLength: 1 },
            },
          },
        },
        oidc: {
          type: "object",
          additionalProperties: false,
          properties: {
            issuer: { type: "string", minLength: 1 },
            audience: { type: "string", minLength: 1 },
            jwksUri: { type: "string", minLength: 1 },
            tenantClaim: { type: "string", minLength: 1 },
            userClaim: { type: "string", minLength: 1 },
          },
        },
      },
    },
    rateLimit: {
      type: "object",
      additionalProperties: false,
      properties: {
        perUser: { $ref: "#/$defs/window" },
        perTenant: { $ref: "#/$defs/window" },
      },
    },
    privacy: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        mode: { enum: ["mask", "redact"], default: "mask" },
        rules: {
          type: "array",
          default: [],
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "pattern"],
            properties: {
              name: { type: "string", pattern: "^[A-Za-z][A-Za-z0-9_-]{0,62}$" },
              pattern: { type: "string", minLength: 1, maxLength: 1000 },
              flags: { type: "string", pattern: "^[imsu]*$", default: "" },
            },
          },
        },
        modelSeesOriginal: { type: "boolean", default: false },
      },
    },
    skills: { type: "array", default: [], items: { type: "object" } },
    skillHosts: { type: "array", default: [], items: { type: "string" } },
    systemPrompt: {
      type: "string",
      maxLength: 20000,
      default:
        "You are the enterprise assistant. Answer from the provided knowledge-base passages and cite them as [n]. " +
        "If the passages do not contain the answer, say so plainly. Reply in the language of the user's question.",
    },
    knowledge: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        dir: { type: "string", minLength: 1 },
        topK: { type: "integer", minimum: 1, maximum: 50, default: 4 },
        chunkChars: { type: "integer", minimum: 100, maximum: 20000, default: 800 },
      },
    },
    limits: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        maxMessageChars: { type: "integer", minimum: 1, maximum: 1000000, default: 4000 },
        historyTokens: { type: "integer", minimum: 0, maximum: 1000000, default: 2000 },
        bodyLimitBytes: { type: "integer", minimum: 1024, maximum: 104857600, default: 1048576 },
        maxPageSize: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
      },
    },
    server: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        sseHeartbeatMs: { type: "integer", minimum: 10, maximum: 600000, default: 15000 },
        drainDelayMs: { type: "integer", minimum: 0, maximum: 600000, default: 0 },
        shutdownGraceMs: { type: "integer", minimum: 0, maximum: 3600000, default: 25000 },
        activeConversationWindowSeconds: { type: "integer", minimum: 1, maximum: 604800, default: 900 },
      },
    },
  },
  $defs: {
    window: {
      type: "object",
      additionalProperties: false,
      required: ["max", "windowSeconds"],
      properties: {
        max: { type: "integer", minimum: 1 },
        windowSeconds: { type: "integer", minimum: 1 },
      },
    },
  },
} as const;

export interface PrivacyRule {
  name: string;
  pattern: string;
  flags: string;
}

export interface ModelConfig {
  provider: "extractive" | "openai";
  baseURL?: string;
  name?: string;
  apiKeyEnv?: string;
  timeoutMs: number;
  maxRetries: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  readinessCacheMs: number;
}

/** The configuration after defaults are applied; mirrors `configSchema`. */
export interface FileConfig {
  model: ModelConfig;
  embeddings?: { baseURL?: string; model?: string; apiKeyEnv?: string };
  storage: { mode: "embedded" | "postgres"; urlEnv?: string; synchronous: "normal" | "full" };
  auth: { mode: "none" | "apiKey" | "oidc"; apiKeys?: unknown[]; oidc?: Record<string, string> };
  rateLimit?: Record<string, unknown>;
  privacy: { mode: "mask" | "redact"; rules: PrivacyRule[]; modelSeesOriginal: boolean };
  skills: unknown[];
  skillHosts: string[];
  systemPrompt: string;
  knowledge: { dir?: string; topK: number; chunkChars: number };
  limits: { maxMessageChars: number; historyTokens: number; bodyLimitBytes: number; maxPageSize: number };
  server: { sseHeartbeatMs: number; drainDelayMs: number; shutdownGraceMs: number; activeConversationWindowSeconds: number };
}

export interface AssistantConfig extends FileConfig {
  port: number;
  host: string;
  dataDir: string;
  /** The model API key resolved from `model.apiKeyEnv`; never logged. */
  modelApiKey?: string;
}
