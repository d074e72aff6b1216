// Retrieval quality on the labelled set in dataset.json (100 documents, 200 questions, half English,
// half Chinese): recall@5 and MRR@10 for BM25, vector and hybrid search. The documents go through
// the service's own preparation (chunking, segmentation) and SQLite store; vectors come from the
// test embeddings server over the OpenAI wire format (hashed character n-grams, no model).
//
//   npm run build && node assistant/bench/eval/run.mjs
//   EVAL_DIMENSIONS=512 EVAL_BM25_WEIGHT=1 EVAL_VECTOR_WEIGHT=1 EVAL_RRF_K=60 node assistant/bench/eval/run.mjs
import { Buffer } from "node:buffer";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { openaiEmbedder } from "../../dist/src/retrieval/embeddings.js";
import { hybridRetriever } from "../../dist/src/retrieval/hybrid.js";
import { prepareDocument } from "../../dist/src/retrieval/prepare.js";
import { queryTerms } from "../../dist/src/retrieval/text.js";
import { openSqliteStorage } from "../../dist/src/storage/sqlite.js";
import { startEmbeddingsServer } from "../../dist/test/support/embeddings-server.js";

const { documents, questions } = JSON.parse(readFileSync(new URL("./dataset.json", import.meta.url), "utf8"));
const dimensions = Number(process.env.EVAL_DIMENSIONS ?? 256);
const weights = {
  bm25Weight: Number(process.env.EVAL_BM25_WEIGHT ?? 1),
  vectorWeight: Number(process.env.EVAL_VECTOR_WEIGHT ?? 1),
  rrfK: Number(process.env.EVAL_RRF_K ?? 60),
};
const TENANT = "eval";
const collections = ["assistant", `tenant/${TENANT}`];

const dir = mkdtempSync(join(tmpdir(), "assistant-eval-"));
const server = await startEmbeddingsServer({ dimensions });
const storage = openSqliteStorage(dir, "normal");
try {
  const embedder = openaiEmbedder({ baseURL: server.baseURL, model: "ngram", batchSize: 64, timeoutMs: 30000, maxRetries: 2, queryTimeoutMs: 30000 }, undefined);
  const documentOf = new Map();
  for (const document of documents) {
    const prepared = await prepareDocument({ format: "markdown", content: Buffer.from(document.text), source: `${document.id}.md`, chunkChars: 800, chunkOverlapChars: 0 }, undefined);
    const vectors = await embedder.embed(prepared.chunks.map((chunk) => `${chunk.heading}\n${chunk.text}`));
    const { id } = await storage.putDocument("assistant", {
      source: `${document.id}.md`,
      title: prepared.title,
      contentHash: document.id,
      chunks: prepared.chunks.map((chunk, index) => ({ ...chunk, embedding: vectors[index] })),
    });
    documentOf.set(id, document.id);
  }

  const hybrid = hybridRetriever(storage, embedder, weights, pino({ level: "silent" }), (query) => query);
  const searches = {
    bm25: (question) => storage.searchChunks(collections, queryTerms(question), 10),
    vector: async (question) => storage.searchVectors(collections, (await embedder.embed([question]))[0], 10),
    hybrid: (question) => hybrid.search(TENANT, question, 10),
  };

  const rows = [];
  for (const [name, search] of Object.entries(searches)) {
    const totals = { all: { recall: 0, rr: 0, n: 0 }, en: { recall: 0, rr: 0, n: 0 }, zh: { recall: 0, rr: 0, n: 0 } };
    for (const { question, lang, document } of questions) {
      const ranked = [...new Set((await search(question)).map((hit) => documentOf.get(hit.documentId)))];
      const rank = ranked.indexOf(document) + 1;
      for (const bucket of [totals.all, totals[lang]]) {
        bucket.n += 1;
        if (rank >= 1 && rank <= 5) bucket.recall += 1;
        if (rank >= 1 && rank <= 10) bucket.rr += 1 / rank;
      }
    }
    const cell = ({ recall, rr, n }) => `${(recall / n).toFixed(3)} / ${(rr / n).toFixed(3)}`;
    rows.push([name, cell(totals.all), cell(totals.en), cell(totals.zh)]);
  }
  console.log(`${documents.length} documents, ${questions.length} questions; vectors: hashed n-grams, ${dimensions} dimensions; hybrid: RRF k=${weights.rrfK}, weights bm25 ${weights.bm25Weight} / vector ${weights.vectorWeight}`);
  console.log("recall@5 / MRR@10 by document\n");
  console.log(["search", "all", "English", "Chinese"].map((text) => text.padEnd(16)).join(""));
  for (const row of rows) console.log(row.map((text) => text.padEnd(16)).join(""));
} finally {
  await storage.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
