import assert from "node:assert/strict";
import { parse } from "yaml";
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
    assert.equal((config["model"] as { passagePlacement: string }).passagePlacement, "system");
  });

  it("is accepted for the smallest spec", async function () {
    const { buildConfig } = (await import(assistantLoader)) as AssistantConfigModule;
    const config = buildConfig(parse(renderAssistantConfigYAML(defaultedAIAssistant().spec)), {});
    assert.deepEqual(config["storage"], { mode: "embedded", synchronous: "normal", startupWaitSeconds: 60 });
  });
});
