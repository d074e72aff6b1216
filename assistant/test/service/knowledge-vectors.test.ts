import assert from "node:assert/strict";
import { apiClient } from "../support/client.js";
import { startEmbeddingsServer, type EmbeddingsServer } from "../support/embeddings-server.js";
import { KNOWLEDGE } from "../support/knowledge.js";
import { settledJob, type JobView, type SearchHit } from "../support/knowledge-api.js";
import { startService, type RunningService } from "../support/service.js";
import { STORE_KINDS, storePlacement } from "../support/stores.js";

const EMBEDDINGS_KEY = "embeddings-key-Zq3Xw8Vc1Bn6";
const CALLERS = {
  alice: { key: "acme-alice-Kd8Fj3Lm9Qw2Er5T", tenant: "acme", user: "alice" },
  eve: { key: "globex-eve-Hs6Gt2Jy9Ku4Lo1P", tenant: "globex", user: "eve" },
};

for (const store of STORE_KINDS) {
  describe(`hybrid retrieval with an embeddings endpoint (${store} store)`, function () {
    this.timeout(120000);
    let embeddings: EmbeddingsServer;
    let service: RunningService;
    const as = (name: keyof typeof CALLERS) => apiClient(service.url, CALLERS[name].key);
    const search = async (name: keyof typeof CALLERS, query: string) =>
      (await as(name)<{ items: SearchHit[] }>("POST", "/api/v1/knowledge/search", { query, topK: 3 })).body.items;

    before(async () => {
      embeddings = await startEmbeddingsServer({ dimensions: 192, apiKey: EMBEDDINGS_KEY });
      const placement = await storePlacement(store);
      service = await startService({
        knowledge: KNOWLEDGE,
        config: {
          storage: placement.storage,
          auth: { mode: "apiKey", apiKeys: Object.entries(CALLERS).map(([name, { key, tenant, user }]) => ({ name, key, tenant, user })) },
          embeddings: { baseURL: embeddings.baseURL, model: "ngram-192", apiKeyEnv: "EMBEDDINGS_API_KEY", batchSize: 2, maxRetries: 0 },
          knowledge: { chunkChars: 100, retryDelayMs: 50, hybrid: { bm25Weight: 1, vectorWeight: 1.5 } },
        },
        env: { ...placement.env, EMBEDDINGS_API_KEY: EMBEDDINGS_KEY },
      });
    });
    after(async () => {
      await service.stop();
      await embeddings.close();
    });

    it("embeds every chunk of the knowledge folder at start, in batches, with the configured key", () => {
      const embedded = embeddings.requests.flatMap((request) => request.inputs);
      assert.ok(embedded.some((input) => input.includes("5天带薪年假")));
      assert.ok(embeddings.requests.every((request) => request.inputs.length <= 2 && request.model === "ngram-192" && request.authorization === `Bearer ${EMBEDDINGS_KEY}`));
      assert.ok(!service.logs.some((line) => line.includes(EMBEDDINGS_KEY)), "the embeddings key reached the log");
    });

    it("finds by meaning what the words alone miss, in search and in chat", async () => {
      const [hit] = await search("alice", "年休假有几天");
      assert.equal(hit?.source, "hr/leave.md");
      const chat = await as("alice")<{ sources: { source: string }[] }>("POST", "/api/v1/chat", { message: "年休假有几天？" });
      assert.equal(chat.body.sources[0]?.source, "hr/leave.md");
    });

    it("embeds a chat message masked: the personal data in it never reaches the endpoint", async () => {
      const chat = await as("alice")("POST", "/api/v1/chat", { message: "年休假有几天？我的手机是13812345678" });
      assert.equal(chat.status, 200);
      const inputs = embeddings.requests.flatMap((request) => request.inputs);
      assert.ok(inputs.includes("年休假有几天？我的手机是138****5678"), inputs.slice(-3).join(" | "));
      assert.ok(!inputs.some((input) => input.includes("13812345678")));
    });

    it("retries a document whose embedding failed, and keeps its vectors within its tenant", async () => {
      embeddings.failures.push(503);
      const reply = await as("alice")<{ job: JobView }>("POST", "/api/v1/knowledge/documents", {
        source: "it/printers.md",
        text: "# Printers\n\nThe third-floor printer prints in colour. Toner cartridges are kept in the supply room.\n",
      });
      const job = await settledJob(as("alice"), reply.body.job.id);
      assert.deepEqual([job.status, job.attempts], ["succeeded", 2]);
      assert.equal((await search("alice", "colour printing cartridge"))[0]?.source, "it/printers.md");
      assert.ok(!(await search("eve", "colour printing cartridge")).some((item) => item.source === "it/printers.md"));
    });
  });
}
