import assert from "node:assert/strict";
import { resolve } from "node:path";
import { buildConfig } from "../../src/config/load.js";

/** A skill as the operator renders it, with `overrides`. */
const skill = (overrides: Record<string, unknown> = {}) => ({
  name: "lookup-order",
  description: "Look up an order",
  endpoint: { url: "http://erp.internal:8080/orders", method: "GET" },
  timeoutMs: 10000,
  confirm: false,
  ...overrides,
});

describe("configuration", () => {
  it("fills defaults for an empty file and reads PORT, HOST, DATA_DIR", () => {
    const config = buildConfig(null, { PORT: "9000", HOST: "127.0.0.1", DATA_DIR: "/tmp/x" });
    assert.equal(config.port, 9000);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.dataDir, "/tmp/x");
    assert.equal(config.model.provider, "extractive");
    assert.equal(config.storage.mode, "embedded");
    assert.equal(config.auth.mode, "none");
    assert.equal(config.privacy.mode, "mask");
    assert.equal(config.limits.maxMessageChars, 4000);
    assert.equal(config.server.sseHeartbeatMs, 15000);
  });

  it("defaults PORT to 8080, HOST to 0.0.0.0 and DATA_DIR to ./data", () => {
    const config = buildConfig({}, {});
    assert.equal(config.port, 8080);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.dataDir, resolve("data"));
  });

  const failures: { name: string; document: unknown; env?: NodeJS.ProcessEnv; field: RegExp }[] = [
    { name: "an unknown key", document: { modle: {} }, field: /config field modle: must NOT have additional properties/ },
    { name: "a wrong type", document: { limits: { maxMessageChars: "many" } }, field: /config field limits\.maxMessageChars: must be integer/ },
    { name: "an unknown provider", document: { model: { provider: "magic" } }, field: /config field model\.provider/ },
    { name: "openai without baseURL", document: { model: { provider: "openai", name: "m" } }, field: /config field model\.baseURL/ },
    { name: "a missing API key variable", document: { model: { provider: "openai", baseURL: "http://x", name: "m", apiKeyEnv: "NOPE_KEY" } }, field: /model\.apiKeyEnv: environment variable NOPE_KEY is not set/ },
    { name: "an invalid custom regex", document: { privacy: { rules: [{ name: "bad", pattern: "(" }] } }, field: /privacy\.rules\.0\.pattern: invalid regular expression/ },
    { name: "oidc without an audience", document: { auth: { mode: "oidc", oidc: { issuer: "https://id" } } }, field: /config field auth\.oidc\.audience: must have required property/ },
    { name: "oidc mode without oidc", document: { auth: { mode: "oidc" } }, field: /config field auth\.oidc: auth\.mode oidc needs oidc/ },
    { name: "apiKeyAndOIDC without keys", document: { auth: { mode: "apiKeyAndOIDC", oidc: { issuer: "https://id", audience: "a" } } }, field: /auth\.mode apiKeyAndOIDC needs apiKeysDir or apiKeys/ },
    { name: "a symmetric JWT algorithm", document: { auth: { mode: "oidc", oidc: { issuer: "https://id", audience: "a", algorithms: ["HS256"] } } }, field: /config field auth\.oidc\.algorithms\.0: must be equal to one of the allowed values/ },
    { name: "the none JWT algorithm", document: { auth: { mode: "oidc", oidc: { issuer: "https://id", audience: "a", algorithms: ["none"] } } }, field: /auth\.oidc\.algorithms\.0/ },
    { name: "an inline API key that is too short", document: { auth: { mode: "apiKey", apiKeys: [{ name: "k", key: "short", tenant: "t" }] } }, field: /config field auth\.apiKeys\.0\.key: must NOT have fewer than 16 characters/ },
    { name: "an inline API key with both forms", document: { auth: { mode: "apiKey", apiKeys: [{ name: "k", key: "0123456789abcdef", keySha256: "a".repeat(64), tenant: "t" }] } }, field: /auth\.apiKeys\.0: must match exactly one schema in oneOf/ },
    { name: "a CORS origin with a path", document: { cors: { origins: ["https://chat.example.com/"] } }, field: /config field cors\.origins\.0: must match pattern/ },
    { name: "a rate limit of zero", document: { rateLimit: { perUser: { max: 0 } } }, field: /config field rateLimit\.perUser\.max: must be >= 1/ },
    { name: "an idle timeout shorter than the SSE heartbeat", document: { server: { connectionTimeoutMs: 10000 } }, field: /server\.connectionTimeoutMs: must exceed server\.sseHeartbeatMs/ },
    { name: "an idle timeout shorter than the model may take", document: { server: { connectionTimeoutMs: 100000 } }, field: /server\.connectionTimeoutMs: must exceed model\.timeoutMs × \(model\.maxRetries \+ 1\) = 180000/ },
    {
      name: "an idle timeout shorter than a whole answer may take",
      document: { server: { connectionTimeoutMs: 250000 } },
      field: /server\.connectionTimeoutMs: must exceed model\.answerTimeoutMs \(300000\)/,
    },
    { name: "postgres without its URL", document: { storage: { mode: "postgres", urlEnv: "UNSET_DATABASE_URL" } }, field: /storage\.urlEnv: environment variable UNSET_DATABASE_URL is not set/ },
    { name: "embeddings without an endpoint", document: { embeddings: { model: "e" } }, field: /embeddings\.baseURL/ },
    { name: "embeddings key variable unset", document: { embeddings: { baseURL: "http://e", model: "e", apiKeyEnv: "UNSET_EMBEDDINGS_KEY" } }, field: /embeddings\.apiKeyEnv.*UNSET_EMBEDDINGS_KEY/ },
    { name: "a skill without an endpoint", document: { skills: [{ name: "s", description: "d" }] }, field: /config field skills\.0\.endpoint: must have required property/ },
    { name: "an unknown skill key", document: { skills: [skill({ retries: 3 })], skillHosts: ["erp.internal:8080"] }, field: /config field skills\.0\.retries: must NOT have additional properties/ },
    { name: "a skill name a model cannot call", document: { skills: [skill({ name: "look up" })], skillHosts: ["erp.internal:8080"] }, field: /config field skills\.0\.name: must match pattern/ },
    { name: "a skill host outside skillHosts", document: { skills: [skill()], skillHosts: ["erp.internal:80"] }, field: /config field skills\.0\.endpoint\.url: host erp\.internal:8080 is not in skillHosts/ },
    { name: "a malformed skillHosts entry", document: { skillHosts: ["http://erp.internal"] }, field: /config field skillHosts\.0: must match pattern/ },
    { name: "two skills with one name", document: { skills: [skill(), skill()], skillHosts: ["erp.internal:8080"] }, field: /config field skills\.1\.name: duplicate skill name lookup-order/ },
    { name: "the reserved skill name confirm", document: { skills: [skill({ name: "confirm" })], skillHosts: ["erp.internal:8080"] }, field: /config field skills\.0\.name: confirm is reserved/ },
    { name: "credentials in a skill URL", document: { skills: [skill({ endpoint: { url: "http://u:p@erp.internal:8080/x" } })], skillHosts: ["erp.internal:8080"] }, field: /skills\.0\.endpoint\.url: credentials in the URL/ },
    { name: "skill parameters that are not an object schema", document: { skills: [skill({ parameters: { type: "string" } })], skillHosts: ["erp.internal:8080"] }, field: /skills\.0\.parameters: must be a JSON Schema with type: object/ },
    { name: "skill parameters that are no JSON Schema", document: { skills: [skill({ parameters: { type: "object", required: "id" } })], skillHosts: ["erp.internal:8080"] }, field: /skills\.0\.parameters: not a valid JSON Schema/ },
    { name: "a missing skill Authorization variable", document: { skills: [skill({ authorizationEnv: "SKILL_X_AUTHORIZATION" })], skillHosts: ["erp.internal:8080"] }, field: /skills\.0\.authorizationEnv: environment variable SKILL_X_AUTHORIZATION is not set/ },
    { name: "a zero step limit", document: { skillOptions: { maxSteps: 0 } }, field: /config field skillOptions\.maxSteps: must be >= 1/ },
    { name: "a chunk overlap as long as the chunk", document: { knowledge: { chunkChars: 500, chunkOverlapChars: 500 } }, field: /knowledge\.chunkOverlapChars: must be less than knowledge\.chunkChars \(500\), got 500/ },
    { name: "a bad PORT", document: {}, env: { PORT: "http" }, field: /env PORT/ },
  ];
  for (const { name, document, env, field } of failures) {
    it(`fails fast naming the field for ${name}`, () => {
      assert.throws(() => buildConfig(document, env ?? {}), field);
    });
  }

  it("accepts the auth and rate limits exactly as the operator renders them, filling the assistant's defaults", () => {
    const config = buildConfig(
      {
        model: { provider: "extractive" },
        storage: { mode: "embedded" },
        auth: {
          mode: "apiKeyAndOIDC",
          apiKeysDir: "/etc/assistant/api-keys",
          oidc: { issuer: "https://id.example.com/realms/acme", audience: "assistant", tenantClaim: "tenant", userClaim: "sub" },
        },
        rateLimit: { perUser: { max: 60, windowSeconds: 60 }, perTenant: { max: 600, windowSeconds: 60 } },
        privacy: { mode: "mask", rules: [] },
      },
      {},
    );
    assert.equal(config.auth.mode, "apiKeyAndOIDC");
    assert.equal(config.auth.apiKeysReloadSeconds, 10);
    assert.deepEqual(config.auth.oidc?.algorithms, ["RS256", "ES256"]);
    assert.equal(config.auth.oidc?.jwksUri, undefined);
    assert.equal(config.auth.oidc?.clockSkewSeconds, 30);
    assert.deepEqual(config.rateLimit?.perTenant, { max: 600, windowSeconds: 60 });
    assert.deepEqual(config.cors.origins, []);
    assert.equal(config.server.requestTimeoutMs, 30000);
    assert.equal(config.server.connectionTimeoutMs, 600000);
    const slowModel = { provider: "openai", baseURL: "http://x/v1", name: "m", timeoutMs: 600000, maxRetries: 2 };
    assert.equal(buildConfig({ model: slowModel }, {}).server.connectionTimeoutMs, 1860000);
    const longAnswers = { provider: "openai", baseURL: "http://x/v1", name: "m", answerTimeoutMs: 900000 };
    assert.equal(buildConfig({ model: longAnswers }, {}).server.connectionTimeoutMs, 960000);
    // auth.apiKeysSecretRef set with mode none: rendered, accepted, unused.
    assert.equal(buildConfig({ auth: { mode: "none", apiKeysDir: "/etc/assistant/api-keys" } }, {}).auth.mode, "none");
    assert.deepEqual(buildConfig({ rateLimit: { perUser: { max: 5 } } }, {}).rateLimit?.perUser, { max: 5, windowSeconds: 60 });
  });

  it("resolves the model key from the named variable", () => {
    const config = buildConfig({ model: { provider: "openai", baseURL: "http://x/v1", name: "qwen", apiKeyEnv: "MODEL_KEY" } }, { MODEL_KEY: "sk-1" });
    assert.equal(config.modelApiKey, "sk-1");
    assert.equal(config.model.maxRetries, 2);
  });

  it("accepts skills exactly as the operator renders them, resolving their Authorization values", () => {
    const config = buildConfig(
      {
        skills: [
          skill({ parameters: { type: "object", properties: { orderId: { type: "string" } }, required: ["orderId"] } }),
          skill({ name: "create-return", endpoint: { url: "https://erp.example.com/returns", method: "POST" }, confirm: true, authorizationEnv: "SKILL_CREATE_RETURN_AUTHORIZATION" }),
          { name: "ping", description: "Ping", endpoint: { url: "http://[fd12::1]/ping" } },
        ],
        skillHosts: ["erp.internal:8080", "erp.example.com:443", "[fd12::1]:80"],
      },
      { SKILL_CREATE_RETURN_AUTHORIZATION: "Bearer erp" },
    );
    assert.deepEqual(config.skillAuthorizations, { "create-return": "Bearer erp" });
    assert.deepEqual(config.skills[2], { name: "ping", description: "Ping", endpoint: { url: "http://[fd12::1]/ping", method: "POST" }, timeoutMs: 10000, confirm: false });
    assert.deepEqual(config.skillOptions, { maxSteps: 4, maxCallsPerStep: 8, maxResponseBytes: 65536, allowPrivateNetworks: false });
  });
});
