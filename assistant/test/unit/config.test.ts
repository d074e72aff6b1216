import assert from "node:assert/strict";
import { resolve } from "node:path";
import { buildConfig } from "../../src/config/load.js";

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
    { name: "auth not implemented yet", document: { auth: { mode: "oidc", oidc: { issuer: "https://id" } } }, field: /not implemented.*auth\.mode=oidc/ },
    { name: "postgres not implemented yet", document: { storage: { mode: "postgres", urlEnv: "DATABASE_URL" } }, field: /not implemented.*storage\.mode=postgres/ },
    { name: "embeddings, skills and rate limits not implemented yet", document: { embeddings: { model: "e" }, skills: [{}], rateLimit: {} }, field: /embeddings.*rateLimit, skills/ },
    { name: "a bad PORT", document: {}, env: { PORT: "http" }, field: /env PORT/ },
  ];
  for (const { name, document, env, field } of failures) {
    it(`fails fast naming the field for ${name}`, () => {
      assert.throws(() => buildConfig(document, env ?? {}), field);
    });
  }

  it("resolves the model key from the named variable", () => {
    const config = buildConfig({ model: { provider: "openai", baseURL: "http://x/v1", name: "qwen", apiKeyEnv: "MODEL_KEY" } }, { MODEL_KEY: "sk-1" });
    assert.equal(config.modelApiKey, "sk-1");
    assert.equal(config.model.maxRetries, 2);
  });
});
