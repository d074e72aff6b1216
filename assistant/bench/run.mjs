// Issue 5's benchmark: loads POST /api/v1/chat (extractive model, a 1,000-document knowledge base,
// SQLite persistence on, the service exactly as it ships) and, in the same run, a bare Fastify JSON
// endpoint; prints req/s, p50 and p99 of both, the ratio, and whether the targets are met.
// Also loads the service's GET /v1/models, which does no work of its own: its rate is the ceiling the
// HTTP path every API route shares (auth, rate limit, security headers, validation, logs, metrics)
// puts on any route of the service, chat included.
//
//   npm run build && npm run bench -w assistant
//
// BENCH_SECONDS (20) per target after BENCH_WARMUP_SECONDS (2) of unmeasured load, BENCH_CONNECTIONS (10),
// BENCH_CORPUS (zipf | uniform, see corpus.mjs), BENCH_LOG_LEVEL (info, as deployed),
// BENCH_PROFILE=<dir> writes a CPU profile of the service there (node --cpu-prof).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { corpus } from "./corpus.mjs";
import { chatRequests, TURNS_PER_CONVERSATION, cpuSeconds, knowledgeDir, SERVICE_MAIN, start, stopAll, untilReady } from "./harness.mjs";

const TARGET_RATIO = 0.25;
const TARGET_P99_MS = 50;
const DOCUMENTS = 1000;

const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const corpusName = process.env.BENCH_CORPUS ?? "zipf";
const profileDir = process.env.BENCH_PROFILE;
const here = fileURLToPath(new URL(".", import.meta.url));

function load(url, path, requests, duration) {
  return autocannon({ url: `${url}${path}`, connections, duration, requests });
}

/** Asks each question once, so a run whose questions find nothing cannot pass for a retrieval benchmark. */
async function citedAnswers(url, questions) {
  let cited = 0;
  for (const message of questions) {
    const response = await fetch(`${url}/api/v1/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message }) });
    if (response.status !== 200) throw new Error(`"${message}" answered ${response.status}: ${await response.text()}`);
    if ((await response.json()).sources.length > 0) cited += 1;
  }
  return cited;
}

const { files, questions } = corpus(corpusName, DOCUMENTS);
const kb = knowledgeDir(files);
const dataDir = mkdtempSync(join(tmpdir(), "assistant-bench-data-"));
const configDir = mkdtempSync(join(tmpdir(), "assistant-bench-config-"));
writeFileSync(join(configDir, "assistant.yaml"), `knowledge:\n  dir: ${kb}\n`);
const service = await start(
  SERVICE_MAIN,
  { PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, ASSISTANT_CONFIG: join(configDir, "assistant.yaml"), LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info" },
  profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
);
const ingestStarted = Date.now();
await untilReady(service.url);
const ingestMs = Date.now() - ingestStarted;
const bare = await start(join(here, "bare.mjs"), {});

try {
  const cited = await citedAnswers(service.url, questions);
  const bareRequests = [{ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ping: true }) }];
  if (warmup > 0) await load(bare.url, "/echo", bareRequests, warmup);
  const baseline = await load(bare.url, "/echo", bareRequests, seconds);
  const modelsRequests = [{ method: "GET" }];
  if (warmup > 0) await load(service.url, "/v1/models", modelsRequests, warmup);
  const shared = await load(service.url, "/v1/models", modelsRequests, seconds);
  if (warmup > 0) await load(service.url, "/api/v1/chat", chatRequests(questions), warmup);
  const cpuBefore = cpuSeconds(service.child.pid);
  const chat = await load(service.url, "/api/v1/chat", chatRequests(questions), seconds);
  const cpuAfter = cpuSeconds(service.child.pid);

  const ratio = chat.requests.average / baseline.requests.average;
  const met = (ok) => (ok ? "met" : "NOT met");
  const row = (name, result) => ({
    target: name,
    "req/s": Math.round(result.requests.average),
    "p50 ms": result.latency.p50,
    "p99 ms": result.latency.p99,
    errors: result.errors + result.non2xx,
  });
  console.log(
    `\n${DOCUMENTS} documents (${corpusName} corpus) indexed in ${ingestMs} ms; ${questions.length} questions, ${cited} answered with citations;` +
      `\n${seconds} s per target after ${warmup} s warm-up, ${connections} connections, conversations of ${TURNS_PER_CONVERSATION} turns\n`,
  );
  console.table([row("bare Fastify JSON", baseline), row("GET /v1/models (shared path)", shared), row("POST /api/v1/chat", chat)]);
  console.log(`the shared HTTP path alone reaches ${((shared.requests.average / baseline.requests.average) * 100).toFixed(1)}% of the bare baseline`);
  console.table([
    { target: `chat/bare throughput >= ${TARGET_RATIO * 100}%`, measured: `${(ratio * 100).toFixed(1)}%`, result: met(ratio >= TARGET_RATIO) },
    { target: `chat p99 < ${TARGET_P99_MS} ms`, measured: `${chat.latency.p99} ms`, result: met(chat.latency.p99 < TARGET_P99_MS) },
  ]);
  if (cpuBefore !== undefined && cpuAfter !== undefined && chat.requests.total > 0) {
    console.log(`service CPU per chat request: ${Math.round(((cpuAfter - cpuBefore) / chat.requests.total) * 1e6)} µs`);
  }
} finally {
  await stopAll([service.child, bare.child]);
  for (const dir of [kb, dataDir, configDir]) rmSync(dir, { recursive: true, force: true });
}
