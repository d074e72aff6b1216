// Retrieval latency and ingestion throughput at scale, for the embedded store (SQLite + in-memory
// vectors) and PostgreSQL + pgvector (a throwaway cluster, as the service tier starts it):
// search p50/p99 for BM25, vector and hybrid at each size, and ingestion MB/s of source text.
//
//   npm run build && node assistant/bench/retrieval/run.mjs                 (10k and 100k chunks)
//   BENCH_SIZES=10000 BENCH_STORES=embedded BENCH_QUERIES=300 node assistant/bench/retrieval/run.mjs
// BENCH_QUERY_HEAD (100): query words come from past that many of the most frequent words; 0 asks with
// everyday words too, each in a large share of the chunks.
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { buildConfig } from "../../dist/src/config/load.js";
import { hybridRetriever } from "../../dist/src/retrieval/hybrid.js";
import { prepareDocument } from "../../dist/src/retrieval/prepare.js";
import { queryTerms } from "../../dist/src/retrieval/text.js";
import { openPostgresStorage } from "../../dist/src/storage/postgres.js";
import { openSqliteStorage } from "../../dist/src/storage/sqlite.js";
import { ngramVector } from "../../dist/test/support/embeddings-server.js";
import { startPostgres } from "../../dist/test/support/postgres.js";

const sizes = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);
const stores = (process.env.BENCH_STORES ?? "embedded,postgres").split(",");
const queryCount = Number(process.env.BENCH_QUERIES ?? 500);
const dimensions = Number(process.env.BENCH_DIMENSIONS ?? 256);
const queryHead = Number(process.env.BENCH_QUERY_HEAD ?? 100);
const CHUNKS_PER_DOCUMENT = 10;

let seed = 7;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
// Word frequencies follow Zipf's law, as in real text: a few words are everywhere, most are rare, so
// a query term matches a realistic share of the chunks (not one in ten, as a tiny vocabulary would).
const syllables = "ka lo mi ne su ta ri po ve da chi ro be nu sa li to me gra fu".split(" ");
const en = syllables.flatMap((a) => syllables.flatMap((b) => syllables.map((c) => `${a}${b}${c}`)));
const hanzi = [..."员工经理审批申请出差报销酒店机票预算发票付款工资年假病假加班考勤门禁访客停车食堂班车培训课程导师考核晋升合同供应商采购报价印章备份数据库事故报告热线合规礼品隐私档案打印会议室日历预订邮箱话费补贴公积金社保体检团建宿舍电脑软件密码网络安全保密资产盘点报废快递失物"];
const zh = [...new Set(hanzi.flatMap((a) => hanzi.map((b) => `${a}${b}`)))];
const zipf = (words) => {
  const cumulative = [];
  let total = 0;
  for (let rank = 1; rank <= words.length; rank += 1) cumulative.push((total += 1 / rank));
  return () => {
    const target = random() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle] < target) low = middle + 1;
      else high = middle;
    }
    return words[low];
  };
};
const enWord = zipf(en);
const zhWord = zipf(zh);
// Questions ask about topics, not about the words every text is full of: their words come from past the head.
const enTopic = zipf(en.slice(queryHead));
const zhTopic = zipf(zh.slice(queryHead));
const paragraph = (chinese) =>
  chinese
    ? Array.from({ length: 12 }, () => `${zhWord()}${zhWord()}需要${zhWord()}${zhWord()}。`).join("")
    : Array.from({ length: 10 }, () => `The ${enWord()} ${enWord()} needs ${enWord()} ${enWord()} from the ${enWord()} team.`).join(" ");
const documentText = (index) => {
  const chinese = index % 2 === 0;
  const sections = Array.from({ length: CHUNKS_PER_DOCUMENT }, (_, section) => `## ${chinese ? zhWord() : enWord()} ${section}\n\n${paragraph(chinese)}`);
  return `# ${chinese ? "制度" : "Policy"} ${index}\n\n${sections.join("\n\n")}\n`;
};
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (value) => `${value.toFixed(2)} ms`;

async function measure(label, queries, search) {
  for (const query of queries.slice(0, 20)) await search(query);
  const times = [];
  for (const query of queries) {
    const started = performance.now();
    await search(query);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return `${label.padEnd(8)} p50 ${ms(percentile(times, 50)).padStart(10)}   p99 ${ms(percentile(times, 99)).padStart(10)}`;
}

async function openStore(kind, postgres) {
  if (kind === "embedded") {
    const dir = mkdtempSync(join(tmpdir(), "assistant-bench-retrieval-"));
    const storage = openSqliteStorage(dir, "normal");
    return { storage, dispose: async () => { await storage.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const storage = await openPostgresStorage(await postgres.createDatabase());
  return { storage, dispose: () => storage.close() };
}

const postgres = stores.includes("postgres") ? await startPostgres() : undefined;
try {
  for (const size of sizes) {
    const documents = Math.ceil(size / CHUNKS_PER_DOCUMENT);
    seed = 7;
    const texts = Array.from({ length: documents }, (_, index) => documentText(index));
    const bytes = texts.reduce((total, text) => total + Buffer.byteLength(text), 0);
    // Preparation (chunking, Chinese segmentation, index terms) is the same for both stores: done once, timed once.
    let started = performance.now();
    const prepared = [];
    for (const [index, text] of texts.entries()) {
      prepared.push(await prepareDocument({ format: "markdown", content: Buffer.from(text), source: `doc-${index}.md`, chunkChars: 800, chunkOverlapChars: 0 }, undefined));
    }
    const prepareSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    for (const document of prepared) for (const chunk of document.chunks) chunk.embedding = ngramVector(`${chunk.heading}\n${chunk.text}`, dimensions);
    const embedSeconds = (performance.now() - started) / 1000;
    const chunks = prepared.reduce((total, document) => total + document.chunks.length, 0);
    console.log(`\n${chunks} chunks in ${documents} documents, ${(bytes / 1e6).toFixed(1)} MB of source text, ${dimensions}-dimension vectors`);
    console.log(`  prepare (chunk + segment): ${(bytes / 1e6 / prepareSeconds).toFixed(2)} MB/s; test embedder in-process: ${(bytes / 1e6 / embedSeconds).toFixed(2)} MB/s`);
    seed = 11;
    const queries = Array.from({ length: queryCount }, (_, index) => (index % 2 === 0 ? `${zhTopic()}${zhTopic()}怎么${zhTopic()}` : `how does the ${enTopic()} ${enTopic()} get ${enTopic()}`));
    const queryVectors = new Map(queries.map((query) => [query, ngramVector(query, dimensions)]));
    const vectorOf = (text) => queryVectors.get(text) ?? ngramVector(text, dimensions);
    const embedder = { fingerprint: "bench", embed: (texts) => Promise.resolve(texts.map(vectorOf)), embedQuery: (text) => Promise.resolve(vectorOf(text)) };
    for (const kind of stores) {
      const { storage, dispose } = await openStore(kind, postgres);
      try {
        started = performance.now();
        for (const [index, document] of prepared.entries()) {
          await storage.putDocument(index % 3 === 0 ? "tenant/other" : "assistant", { source: `doc-${index}.md`, title: document.title, contentHash: String(index), chunks: document.chunks });
        }
        const storeSeconds = (performance.now() - started) / 1000;
        console.log(`  ${kind}: store ${(bytes / 1e6 / storeSeconds).toFixed(2)} MB/s (${(chunks / storeSeconds).toFixed(0)} chunks/s); end to end (prepare + store, vectors precomputed) ${(bytes / 1e6 / (prepareSeconds + storeSeconds)).toFixed(2)} MB/s`);
        const collections = ["assistant", "tenant/bench"];
        const hybrid = hybridRetriever(storage, embedder, buildConfig({}, {}).knowledge.hybrid, pino({ level: "silent" }), (query) => query);
        console.log(`    ${await measure("bm25", queries, (query) => storage.searchChunks(collections, queryTerms(query), 5))}`);
        console.log(`    ${await measure("vector", queries, (query) => storage.searchVectors(collections, queryVectors.get(query), 5))}`);
        console.log(`    ${await measure("hybrid", queries, (query) => hybrid.search("bench", query, 5))}`);
      } finally {
        await dispose();
      }
    }
  }
} finally {
  postgres?.stop();
}
