// Where a chat turn allocates: the JS heap bytes (V8's total_allocated_bytes) and time of one
// /api/v1/chat turn through the service's own DialogManager (SQLite, the 1,000 generated documents,
// the mock model of gateway.mjs, conversations of three turns), and of each of its parts alone; then
// the allocation sites of the whole turn (V8's sampling heap profiler, collected objects included).
// Young-generation collections cost in proportion to what requests in flight hold, and they come as
// often as requests allocate: at 200 requests held by a 200 ms model, their pauses are the gateway's
// tail (issue 19). Requests run one at a time here, so the figures are per turn, not per second.
//
//   npm run build && node assistant/bench/allocations.mjs
//
// BENCH_TURNS (2000) per measurement after 200 unmeasured, BENCH_DOCUMENTS (1000), BENCH_SITES (20).
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import { buildConfig } from "../dist/src/config/load.js";
import { DialogManager } from "../dist/src/dialog/dialog.js";
import { openaiProvider } from "../dist/src/llm/openai.js";
import { createMasker } from "../dist/src/masking/mask.js";
import { createMetrics } from "../dist/src/observability/metrics.js";
import { assessEvidence } from "../dist/src/retrieval/evidence.js";
import { bm25Retriever } from "../dist/src/retrieval/knowledge.js";
import { prepareDocument } from "../dist/src/retrieval/prepare.js";
import { queryTerms } from "../dist/src/retrieval/text.js";
import { openSqliteStorage } from "../dist/src/storage/sqlite.js";
import { corpus } from "./corpus.mjs";
import { start, stopAll, TURNS_PER_CONVERSATION } from "./harness.mjs";

const turns = Number(process.env.BENCH_TURNS ?? 2000);
const documents = Number(process.env.BENCH_DOCUMENTS ?? 1000);
const siteCount = Number(process.env.BENCH_SITES ?? 20);
const WARMUP = 200;
const TENANT = "default";
const owner = { tenant: TENANT, user: "bench" };

const upstream = await start(fileURLToPath(new URL("./upstream.mjs", import.meta.url)), { UPSTREAM_DELAY_MS: "0" });
const dir = mkdtempSync(join(tmpdir(), "assistant-allocations-"));
const storage = openSqliteStorage(dir, "normal");
const { files, questions } = corpus("zipf", documents);
for (const [source, text] of files) {
  const prepared = await prepareDocument({ format: "markdown", content: Buffer.from(text), source, chunkChars: 800, chunkOverlapChars: 0 }, undefined);
  await storage.putDocument("assistant", { source, title: prepared.title, contentHash: source, chunks: prepared.chunks });
}
const { knowledge } = buildConfig({}, {});
const retriever = bm25Retriever(storage);
const masker = createMasker("mask", []);
const provider = openaiProvider({ provider: "openai", name: "bench-model", baseURL: `${upstream.url}/v1`, timeoutMs: 30_000, answerTimeoutMs: 30_000, maxRetries: 0 }, "bench");
const dialog = new DialogManager({
  conversations: storage,
  retriever,
  provider,
  metrics: createMetrics(() => Promise.resolve(0)),
  masker,
  options: { systemPrompt: "You answer from the passages.", topK: knowledge.topK, historyTokens: 2000, modelSeesOriginal: false, abstention: knowledge.abstention, passagePlacement: "user" },
});
const signal = new globalThis.AbortController().signal;
const question = (index) => questions[index % questions.length];

let conversationId;
const chatTurn = async (index) => {
  const first = index % TURNS_PER_CONVERSATION === 0;
  const conversation = await dialog.openConversation(owner, first ? undefined : conversationId);
  ({ conversationId } = await dialog.chat(owner, question(index), conversation, signal));
};
const asked = await Promise.all(
  questions.map(async (text) => {
    const terms = queryTerms(text);
    return { text, terms, frequencies: await retriever.termFrequencies(TENANT, terms), passages: await retriever.search(TENANT, text, knowledge.topK) };
  }),
);
const { sources } = await dialog.answer(TENANT, [], question(0), signal);
const prompt = [{ role: "user", content: asked[0].passages.map((passage) => passage.text).join("\n\n") }];

const parts = {
  "chat turn": chatTurn,
  "answer (no history, no storage)": (index) => dialog.answer(TENANT, [], question(index), signal),
  "query analysis (a new question)": (index) => queryTerms(`${question(index)} ${index}`),
  "BM25 search": (index) => retriever.search(TENANT, question(index), knowledge.topK),
  "term frequencies": (index) => retriever.termFrequencies(TENANT, asked[index % asked.length].terms),
  "evidence check": (index) => {
    const { text, terms, frequencies, passages } = asked[index % asked.length];
    return assessEvidence(text, terms, frequencies, passages, knowledge.abstention);
  },
  "masking the question": (index) => masker(question(index)),
  "model call (the prompt of 5 passages)": async () => {
    for await (const event of provider.generate({ messages: prompt, question: "", passages: [], language: "en", termWeights: new Map(), intent: "question", documentCount: 0, tools: [], stream: false, signal })) void event;
  },
  "storing a new conversation's 2 turns": () =>
    storage.appendTurns(
      owner,
      randomUUID(),
      [
        { role: "user", content: question(0), sources: [], promptTokens: null, completionTokens: null },
        { role: "assistant", content: prompt[0].content.slice(0, 300), sources, promptTokens: 120, completionTokens: 5 },
      ],
      question(0),
    ),
  "reading a conversation's history": () => storage.recentTurns(owner, conversationId, 100),
};

const rows = [];
for (const [name, run] of Object.entries(parts)) {
  for (let index = 0; index < WARMUP; index += 1) await run(index);
  const bytes = getHeapStatistics().total_allocated_bytes;
  const started = process.hrtime.bigint();
  for (let index = 0; index < turns; index += 1) await run(index);
  const ns = Number(process.hrtime.bigint() - started);
  rows.push({ part: name, "KB allocated": Number(((getHeapStatistics().total_allocated_bytes - bytes) / turns / 1024).toFixed(1)), "µs": Math.round(ns / turns / 1000) });
}
console.log(`${documents} documents; ${turns} calls each, one at a time, after ${WARMUP} unmeasured`);
console.table(rows);

// Allocation sites of whole chat turns, by the function that allocated (inlined callees count as their caller).
const session = new Session();
session.connect();
await session.post("HeapProfiler.startSampling", { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let index = 0; index < turns; index += 1) await chatTurn(index);
const { profile } = await session.post("HeapProfiler.stopSampling");
session.disconnect();
const bySite = new Map();
const visit = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const site = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
  if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
  for (const child of node.children) visit(child);
};
visit(profile.head);
console.log("\nwhere a chat turn allocates (sampled)");
console.table(
  [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, siteCount)
    .map(([site, bytes]) => ({ site, "KB per turn": Number((bytes / turns / 1024).toFixed(2)) })),
);

await storage.close();
await stopAll([upstream.child]);
rmSync(dir, { recursive: true, force: true });
