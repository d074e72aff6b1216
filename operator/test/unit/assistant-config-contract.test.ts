import assert from "node:assert/strict";
import { parse } from "yaml";
import { specSchema, type JsonSchema } from "../../src/api/schema.js";
import { renderAssistantConfigYAML, secretEnvVars } from "../../src/resources/assistant-config.js";
import { defaultedAIAssistant } from "../support/aiassistant.js";

/** The assistant's own config loader (compiled; `npm test` builds both workspaces first). */
interface AssistantConfigModule {
  buildConfig: (document: unknown, env: NodeJS.ProcessEnv) => Record<string, unknown>;
}
const assistantLoader = new URL("../../../../assistant/dist/src/config/load.js", import.meta.url).href;

// Every spec field the operator turns into assistant config, set at once: what the operator
// renders must be exactly what this version of the assistant accepts, or its pods never start.
const everyRenderedField = {
  systemPrompt: "You answer questions about the handbook.",
  model: {
    provider: "openai",
    baseURL: "http://vllm.models.svc:8000/v1",
    name: "qwen2.5-7b-instruct",
    apiKeySecretRef: { name: "model-key" },
    temperature: 0.2,
    topP: 0.9,
    maxTokens: 1024,
    timeoutSeconds: 90,
    answerTimeoutSeconds: 600,
    passagePlacement: "system",
  },
  embeddings: { baseURL: "http://tei.models.svc/v1", model: "bge-m3", apiKeySecretRef: { name: "embed-key" }, dimensions: 1024, queryPrefix: "query: ", passagePrefix: "passage: ", inputType: false },
  knowledge: {
    sources: [
      { name: "handbook", configMap: { name: "hb" } },
      { name: "policies", secret: { name: "policies" } },
      { name: "faq", url: "https://intranet.example/faq.md" },
    ],
    topK: 6,
    chunkChars: 1200,
    chunkOverlapChars: 200,
  },
  storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } },
  auth: {
    mode: "apiKeyAndOIDC",
    apiKeysSecretRef: { name: "keys" },
    oidc: { issuer: "https://login.example", audience: "assistant", jwksURI: "https://login.example/keys", tenantClaim: "org", userClaim: "sub" },
  },
  rateLimit: { perUser: { max: 60, windowSeconds: 60 }, perTenant: { max: 600, windowSeconds: 60 } },
  privacy: { mode: "mask", rules: [{ name: "ticket", pattern: "TCK-[0-9]{6}" }] },
  skills: [
    {
      name: "ticket-status",
      description: "Looks up a ticket",
      parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
      endpoint: { url: "http://tickets.itsm.svc.cluster.local/status", method: "POST" },
      authSecretRef: { name: "tickets-token" },
      confirm: true,
    },
  ],
};

describe("the config the operator renders, read by the assistant it deploys", function () {
  it("is accepted with every rendered field set, with the secret env vars the pod gets", async function () {
    const { buildConfig } = (await import(assistantLoader)) as AssistantConfigModule;
    const spec = defaultedAIAssistant(everyRenderedField).spec;
    const env = Object.fromEntries(secretEnvVars(spec).map((variable) => [variable.name, `value of ${variable.name}`]));
    const config = buildConfig(parse(renderAssistantConfigYAML(spec)), env);
    assert.equal(config["databaseUrl"], "value of DATABASE_URL");
    assert.equal(config["embeddingsApiKey"], "value of EMBEDDINGS_API_KEY");
    const knowledge = config["knowledge"] as { urls: unknown; topK: number; chunkChars: number; chunkOverlapChars: number };
    assert.deepEqual(knowledge.urls, [{ url: "https://intranet.example/faq.md" }]);
    assert.deepEqual([knowledge.topK, knowledge.chunkChars, knowledge.chunkOverlapChars], [6, 1200, 200]);
    const embeddings = config["embeddings"] as { queryPrefix: string; passagePrefix: string; inputType: boolean };
    assert.deepEqual([embeddings.queryPrefix, embeddings.passagePrefix, embeddings.inputType], ["query: ", "passage: ", false]);
    const model = config["model"] as { passagePlacement: string; timeoutMs: number; answerTimeoutMs: number };
    assert.deepEqual([model.passagePlacement, model.timeoutMs, model.answerTimeoutMs], ["system", 90000, 600000]);
  });

  it("is accepted for the smallest spec", async function () {
    const { buildConfig } = (await import(assistantLoader)) as AssistantConfigModule;
    const config = buildConfig(parse(renderAssistantConfigYAML(defaultedAIAssistant().spec)), {});
    assert.deepEqual(config["storage"], { mode: "embedded", synchronous: "normal", startupWaitSeconds: 60 });
  });
});

describe("the bounds the CRD shares with the assistant's config", function () {
  // A spec that sets every object holding a bounded field the operator renders.
  const base = {
    model: { provider: "openai", baseURL: "http://vllm.models.svc:8000/v1", name: "qwen" },
    embeddings: { baseURL: "http://tei.models.svc/v1", model: "bge-m3" },
    knowledge: { chunkChars: 20000 },
    auth: { mode: "oidc", oidc: { issuer: "https://login.example", audience: "assistant" } },
    rateLimit: { perUser: { max: 60 } },
    privacy: { rules: [{ name: "ticket", pattern: "TCK" }] },
    skills: [{ name: "status", description: "Looks up a ticket", endpoint: { url: "https://tickets.example/status" } }],
  };
  const fields = [
    "systemPrompt",
    "model.name",
    "model.temperature",
    "model.topP",
    "model.maxTokens",
    "model.timeoutSeconds",
    "model.answerTimeoutSeconds",
    "embeddings.model",
    "embeddings.dimensions",
    "embeddings.queryPrefix",
    "embeddings.passagePrefix",
    "knowledge.topK",
    "knowledge.chunkChars",
    "knowledge.chunkOverlapChars",
    "auth.oidc.audience",
    "auth.oidc.tenantClaim",
    "auth.oidc.userClaim",
    "rateLimit.perUser.max",
    "rateLimit.perUser.windowSeconds",
    "privacy.rules.0.pattern",
    "skills.0.description",
    "skills.0.timeoutMs",
  ];

  /** The CRD's schema of a spec field, by its path (a number stands for an item of a list). */
  const crdField = (path: string[]): JsonSchema =>
    path.reduce((node, key) => (/^\d+$/.test(key) ? node["items"] : (node["properties"] as Record<string, JsonSchema>)[key]) as JsonSchema, specSchema);
  const withValue = (path: string[], value: unknown): Record<string, unknown> => {
    const spec = structuredClone(base) as Record<string, unknown>;
    const parent = path.slice(0, -1).reduce((node, key) => ((node[key] ??= {}) as Record<string, unknown>), spec);
    parent[path.at(-1) ?? ""] = value;
    return spec;
  };
  /** The least and the greatest value the API server admits: a length for a string, else a number. */
  const extremes = (field: JsonSchema): unknown[] =>
    field["type"] === "string"
      ? [(field["minLength"] as number | undefined) ?? 0, field["maxLength"] as number].map((length) => "x".repeat(length))
      : [field["minimum"], field["maximum"]];

  for (const field of fields) {
    it(`the assistant accepts the least and the greatest ${field} the API server admits`, async function () {
      const { buildConfig } = (await import(assistantLoader)) as AssistantConfigModule;
      const path = field.split(".");
      for (const value of extremes(crdField(path))) {
        const spec = defaultedAIAssistant(withValue(path, value)).spec;
        const env = Object.fromEntries(secretEnvVars(spec).map((variable) => [variable.name, "set"]));
        assert.doesNotThrow(() => buildConfig(parse(renderAssistantConfigYAML(spec)), env), `${field} = ${String(value).slice(0, 20)}`);
      }
    });
  }
});
