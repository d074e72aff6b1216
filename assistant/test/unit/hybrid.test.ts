import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createMasker } from "../../src/masking/mask.js";
import { EmbeddingsUnavailableError, openaiEmbedder } from "../../src/retrieval/embeddings.js";
import { fuseRankings, fuseScores, hybridRetriever } from "../../src/retrieval/hybrid.js";
import type { Passage } from "../../src/retrieval/knowledge.js";
import { indexTerms } from "../../src/retrieval/text.js";
import { openSqliteStorage } from "../../src/storage/sqlite.js";
import { VectorIndex } from "../../src/storage/vector-index.js";
import { ngramVector, startEmbeddingsServer, type EmbeddingsServer } from "../support/embeddings-server.js";

const passage = (chunkId: string): Passage => ({ chunkId, documentId: "d", collection: "c", title: "t", source: "s", heading: "", text: chunkId, score: 0 });
const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0);

describe("vector search and hybrid ranking", () => {
  it("finds the exact nearest vectors within the given collections, and forgets removed ones", () => {
    const index = new VectorIndex();
    index.add("a", 1, Float32Array.from([1, 0, 0]));
    index.add("a", 2, Float32Array.from([0.7, 0.7, 0]));
    index.add("a", 3, Float32Array.from([0, 0, 5]));
    index.add("b", 4, Float32Array.from([1, 0, 0]));
    index.add("a", 5, Float32Array.from([1, 0]));
    const hits = index.search(["a"], Float32Array.from([2, 0.1, 0]), 2);
    assert.deepEqual(hits.map((hit) => hit.chunkId), [1, 2]);
    assert.ok(Math.abs((hits[0]?.score ?? 0) - 0.9988) < 1e-3);
    assert.deepEqual(index.search(["a", "b"], Float32Array.from([1, 0, 0]), 5).map((hit) => hit.chunkId).sort(), [1, 2, 3, 4]);
    index.remove(1);
    index.add("a", 2, Float32Array.from([0, 0, 1]));
    const after = index.search(["a"], Float32Array.from([1, 0, 0]), 5);
    assert.deepEqual(after.map((hit) => hit.chunkId).sort(), [2, 3]);
    assert.ok(after.every((hit) => Math.abs(hit.score) < 1e-6));
    assert.deepEqual(index.search(["c"], Float32Array.from([1, 0, 0]), 5), []);
  });

  it("ranks exactly as a plain cosine over every vector, whatever the length's remainder by four", () => {
    let state = 7;
    const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (const dimensions of [5, 8, 257]) {
      const vectors = Array.from({ length: 300 }, () => Float32Array.from({ length: dimensions }, next));
      const index = new VectorIndex();
      vectors.forEach((vector, chunkId) => { index.add("a", chunkId, vector); });
      const query = Float32Array.from({ length: dimensions }, next);
      const norm = (vector: Float32Array) => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
      const cosine = (vector: Float32Array) => vector.reduce((sum, value, at) => sum + value * (query[at] ?? 0), 0) / (norm(vector) * norm(query));
      const expected = vectors.map((vector, chunkId) => ({ chunkId, score: cosine(vector) })).sort((a, b) => b.score - a.score).slice(0, 10);
      const hits = index.search(["a"], query, 10);
      assert.deepEqual(hits.map((hit) => hit.chunkId), expected.map((hit) => hit.chunkId), `${dimensions} dimensions`);
      hits.forEach((hit, at) => { assert.ok(Math.abs(hit.score - (expected[at]?.score ?? 0)) < 1e-5); });
    }
  });

  it("fuses rankings by reciprocal rank with weights", () => {
    const bm25 = ["a", "b", "c"].map(passage);
    const vectors = ["c", "d", "a"].map(passage);
    const fused = fuseRankings([{ passages: bm25, weight: 1 }, { passages: vectors, weight: 1 }], 60, 3);
    assert.deepEqual(fused.map((hit) => hit.chunkId), ["a", "c", "b"]);
    assert.equal(fused[0]?.score, 1 / 61 + 1 / 63);
    assert.deepEqual(fuseRankings([{ passages: bm25, weight: 0 }, { passages: vectors, weight: 2 }], 60, 5).map((hit) => hit.chunkId), ["c", "d", "a"]);
  });

  it("fuses scores scaled within each list, so a clear lead in one list outweighs a narrow one in the other", () => {
    const scored = (chunkId: string, score: number): Passage => ({ ...passage(chunkId), score });
    const bm25 = [scored("a", 10), scored("b", 9.5), scored("c", 2)];
    const vectors = [scored("b", 0.9), scored("a", 0.8), scored("d", 0.78)];
    // a: 1 + 4 × 0.1666…; b: 0.9375 + 4 × 1; c: 0 + nothing; d: 4 × 0.
    const fused = fuseScores([{ passages: bm25, weight: 1 }, { passages: vectors, weight: 4 }], 4);
    assert.deepEqual(fused.map((hit) => hit.chunkId), ["b", "a", "c", "d"]);
    assert.ok(Math.abs((fused[0]?.score ?? 0) - 4.9375) < 1e-9);
    assert.deepEqual(fuseScores([{ passages: [scored("x", 3)], weight: 1 }, { passages: vectors, weight: 0 }], 5).map((hit) => [hit.chunkId, hit.score]), [["x", 1]]);
    assert.deepEqual(fuseScores([{ passages: bm25, weight: 1 }, { passages: [], weight: 4 }], 2).map((hit) => hit.chunkId), ["a", "b"]);
  });

  it("makes hashed n-gram vectors that are near for shared words and word pieces, in both languages", () => {
    const near = cosine(ngramVector("connecting to the VPN", 256), ngramVector("VPN connection", 256));
    const far = cosine(ngramVector("connecting to the VPN", 256), ngramVector("cafeteria lunch menu", 256));
    assert.ok(near > 0.3 && far < 0.15, `${near} ${far}`);
    assert.ok(cosine(ngramVector("年休假有几天", 256), ngramVector("员工享有带薪年假", 256)) > cosine(ngramVector("年休假有几天", 256), ngramVector("食堂中午开放", 256)) + 0.1);
    assert.deepEqual(ngramVector("same text", 64), ngramVector("same text", 64));
  });

  describe("against an OpenAI-compatible embeddings server", () => {
    let server: EmbeddingsServer;
    let dir: string;
    before(async () => {
      server = await startEmbeddingsServer({ dimensions: 128, apiKey: "embed-key" });
    });
    after(async () => {
      await server.close();
    });
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "assistant-hybrid-"));
      server.requests.length = 0;
      server.failures.length = 0;
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const config = { baseURL: "", model: "ngram", batchSize: 3, concurrency: 1, queryPrefix: "", passagePrefix: "", inputType: false, timeoutMs: 5000, maxRetries: 1, queryTimeoutMs: 5000 };
    const fusion = { fusion: "relative" as const, bm25Weight: 1, vectorWeight: 4, rrfK: 60 };
    const silent = pino({ level: "silent" });
    const asIs = (query: string) => query;

    it("embeds in batches, in order, and retries a failed request", async () => {
      const embedder = openaiEmbedder({ ...config, baseURL: server.baseURL }, "embed-key");
      server.failures.push(503);
      const texts = ["one", "two", "three", "four", "five", "六", "七"];
      const vectors = await embedder.embed(texts);
      assert.deepEqual(vectors.map((vector) => Array.from(vector)), texts.map((text) => Array.from(ngramVector(text, 128))));
      assert.deepEqual(server.requests.map((request) => request.inputs.length), [3, 3, 3, 1]);
      assert.ok(server.requests.every((request) => request.authorization === "Bearer embed-key" && request.model === "ngram"));
    });

    it("keeps `concurrency` requests in flight and puts the vectors back in order", async () => {
      const gated = await startEmbeddingsServer({ dimensions: 128, gate: 2 });
      try {
        const embedder = openaiEmbedder({ ...config, baseURL: gated.baseURL, concurrency: 2 }, undefined);
        const texts = ["one", "two", "three", "four", "five", "six", "七", "八", "九", "十", "十一", "十二"];
        const vectors = await embedder.embed(texts);
        assert.deepEqual(vectors.map((vector) => Array.from(vector)), texts.map((text) => Array.from(ngramVector(text, 128))));
        assert.equal(gated.requests.length, 4);
      } finally {
        await gated.close();
      }
    });

    it("puts the query and passage prefixes before the texts, and says which is which when asked to", async () => {
      const prefixed = { ...config, baseURL: server.baseURL, queryPrefix: "query: ", passagePrefix: "passage: " };
      await openaiEmbedder(prefixed, "embed-key").embed(["年假"]);
      await openaiEmbedder(prefixed, "embed-key").embedQuery("how many days");
      await openaiEmbedder({ ...config, baseURL: server.baseURL, inputType: true }, "embed-key").embed(["a"]);
      await openaiEmbedder({ ...config, baseURL: server.baseURL, inputType: true }, "embed-key").embedQuery("b");
      assert.deepEqual(
        server.requests.map((request) => [request.inputs, request.inputType]),
        [
          [["passage: 年假"], undefined],
          [["query: how many days"], undefined],
          [["a"], "passage"],
          [["b"], "query"],
        ],
      );
      assert.notEqual(openaiEmbedder(prefixed, undefined).fingerprint, openaiEmbedder({ ...config, baseURL: server.baseURL }, undefined).fingerprint);
    });

    it("reports an endpoint that keeps failing or answers the wrong size as unavailable", async () => {
      const failing = openaiEmbedder({ ...config, baseURL: server.baseURL, maxRetries: 0 }, "embed-key");
      server.failures.push(500);
      await assert.rejects(failing.embed(["x"]), EmbeddingsUnavailableError);
      await assert.rejects(openaiEmbedder({ ...config, baseURL: server.baseURL }, "wrong-key").embed(["x"]), EmbeddingsUnavailableError);
      const wrongSize = openaiEmbedder({ ...config, baseURL: server.baseURL, dimensions: 64 }, "embed-key");
      assert.equal((await wrongSize.embed(["x"]))[0]?.length, 64);
      server.failures.push(400);
      await assert.rejects(wrongSize.embed(["x"]), /embeddings endpoint failed/);
    });

    it("finds by meaning what BM25 misses, keeps tenants apart, and falls back to BM25 when the query cannot be embedded", async () => {
      const storage = openSqliteStorage(dir, "normal");
      const embedder = openaiEmbedder({ ...config, baseURL: server.baseURL }, "embed-key");
      const put = async (collection: string, source: string, text: string) => {
        const [embedding] = await embedder.embed([`\n${text}`]);
        await storage.putDocument(collection, { source, title: source, contentHash: text, chunks: [{ ordinal: 0, heading: "", text, terms: indexTerms(text), ...(embedding === undefined ? {} : { embedding }) }] });
      };
      await put("assistant", "leave.md", "员工入职满一年后享有5天带薪年假。");
      await put("assistant", "canteen.md", "食堂中午十二点开放。");
      await put("tenant/globex", "secret.md", "年休假政策：globex 员工享有20天年休假。");
      const retriever = hybridRetriever(storage, embedder, fusion, silent, asIs);
      assert.deepEqual(await storage.searchChunks(["assistant", "tenant/acme"], ["年休假"], 5), [], "BM25 alone already finds it");
      const hits = await retriever.search("acme", "年休假有几天", 2);
      assert.equal(hits[0]?.source, "leave.md");
      assert.ok(!hits.some((hit) => hit.collection === "tenant/globex"));
      assert.equal((await retriever.search("globex", "年休假有几天", 1))[0]?.source, "secret.md");
      await storage.close();
      const reopened = openSqliteStorage(dir, "normal");
      const down = hybridRetriever(reopened, openaiEmbedder({ ...config, baseURL: "http://127.0.0.1:1/v1", maxRetries: 0 }, undefined), fusion, silent, asIs);
      assert.deepEqual((await down.search("acme", "带薪年假", 3)).map((hit) => hit.source), ["leave.md"]);
      // The vectors were loaded again from the database.
      assert.equal((await reopened.searchVectors(["assistant"], ngramVector("\n食堂中午十二点开放。", 128), 1))[0]?.source, "canteen.md");
      await reopened.close();
    });
    it("sends the endpoint only what may leave the service: the masked query", async () => {
      const storage = openSqliteStorage(dir, "normal");
      const retriever = hybridRetriever(storage, openaiEmbedder({ ...config, baseURL: server.baseURL }, "embed-key"), fusion, silent, createMasker("mask", []));
      await retriever.search("acme", "年假有几天？我的手机是13812345678", 3);
      assert.deepEqual(server.requests.map((request) => request.inputs), [["年假有几天？我的手机是138****5678"]]);
      await storage.close();
    });

    it("gives a query one attempt within queryTimeoutMs, then answers from BM25 alone for a while without asking", async () => {
      const sockets: Socket[] = [];
      const silentServer = createNetServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silentServer.listen(0, "127.0.0.1", resolve));
      const { port } = silentServer.address() as AddressInfo;
      const storage = openSqliteStorage(dir, "normal");
      await storage.putDocument("assistant", { source: "leave.md", title: "leave", contentHash: "h", chunks: [{ ordinal: 0, heading: "", text: "带薪年假五天", terms: indexTerms("带薪年假五天") }] });
      // The ingestion settings would retry for minutes; the query gets one 300 ms attempt.
      const hanging = openaiEmbedder({ ...config, baseURL: `http://127.0.0.1:${port}/v1`, timeoutMs: 600000, maxRetries: 10, queryTimeoutMs: 300 }, undefined);
      let asked = 0;
      const counting = { ...hanging, embedQuery: (text: string) => ((asked += 1), hanging.embedQuery(text)) };
      const retriever = hybridRetriever(storage, counting, fusion, silent, asIs);
      assert.deepEqual((await retriever.search("acme", "带薪年假", 3)).map((hit) => hit.source), ["leave.md"]);
      assert.deepEqual((await retriever.search("acme", "带薪年假", 3)).map((hit) => hit.source), ["leave.md"]);
      assert.equal(asked, 1, "the second search waited for the endpoint again");
      await storage.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silentServer.close(resolve));
    });
  });
});
