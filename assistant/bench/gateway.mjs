// Issue 19's benchmark: the assistant as a gateway in front of a model with real latency. One run
// starts a mock OpenAI-compatible model (upstream.mjs), the service in front of it (SQLite, a
// 1,000-document knowledge base, logs at info: as it ships), and loads, side by side:
//   direct       the mock itself, POST /v1/chat/completions: the ideal a gateway can only lose against;
//   completions  the service's POST /v1/chat/completions (knowledge search, masking, then the model);
//   chat         the service's POST /api/v1/chat (search, history, persistence, then the model).
// Phases:
//   latency  the model answers after BENCH_DELAY_MS (200), BENCH_CLIENTS (200) clients: throughput and p99;
//            the load is this process's own closed loop (see measure) rather than autocannon's;
//   instant  the model answers at once, 16 clients: the service's CPU time per request (and the load
//            generator's, this process's: on a small machine it competes with the service for cores);
//   ttft     streamed, the model's first token after the delay: time to first token, service minus direct;
//   streams  BENCH_STREAMS (5000) SSE streams held open at once: resident memory, heartbeat gaps;
//   tokens   (only when named) answers as long as a real model's: BENCH_TOKENS (200) tokens, streamed
//            by the model one event each BENCH_TOKEN_INTERVAL_MS (20) apart after the delay,
//            BENCH_CLIENTS clients, completions also streamed to the client: CPU per request and per token.
// Each load phase runs its three targets in turn BENCH_REPEATS (3) times, so a busy machine slows all
// alike; tables give the median and [min–max] over the repeats. "main thread" is the CPU time of the
// answering process's event-loop thread alone (schedstat): one core at most, whatever the rest of the
// process runs on other threads, so what bounds its throughput. "waited for a core" is the share of
// the time the answering process's main thread was runnable but had no core (schedstat): what a
// machine shared with other work takes from the run.
//
//   npm run build && npm run bench:gateway -w assistant
//
// BENCH_SECONDS (10) per target after BENCH_WARMUP_SECONDS (2), BENCH_PHASES (latency,instant,ttft,streams),
// BENCH_JITTER_MS (0): the latency phase's model time drawn evenly from delay ± jitter,
// BENCH_HEARTBEAT_MS (1000), BENCH_HOLD_SECONDS (10), BENCH_TTFT_SAMPLES (300 per target),
// BENCH_DOCUMENTS (1000), BENCH_PROFILE=<dir> writes a CPU profile of the service there (node --cpu-prof),
// BENCH_NODE_ARGS="--flag ..." runs the service with those Node flags (a heap setting, say),
// BENCH_MEMORY_LIMIT_MB=<n> runs it in a memory cgroup of that size, as a pod with that limit (root only).
import { Buffer } from "node:buffer";
import { Agent, request as httpRequest } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { clearTimeout } from "node:timers";
import { fileURLToPath } from "node:url";
import { corpus } from "./corpus.mjs";
import { chatRequests, cpuSeconds, knowledgeDir, memoryCgroup, memoryMb, schedSeconds, SERVICE_MAIN, start, stopAll, untilReady } from "./harness.mjs";

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 10);
const warmup = Number(env.BENCH_WARMUP_SECONDS ?? 2);
const repeats = Number(env.BENCH_REPEATS ?? 3);
const delayMs = Number(env.BENCH_DELAY_MS ?? 200);
const jitterMs = Number(env.BENCH_JITTER_MS ?? 0);
const clients = Number(env.BENCH_CLIENTS ?? 200);
const instantClients = 16;
const streamCount = Number(env.BENCH_STREAMS ?? 5000);
const heartbeatMs = Number(env.BENCH_HEARTBEAT_MS ?? 1000);
const holdSeconds = Number(env.BENCH_HOLD_SECONDS ?? 10);
const ttftSamples = Number(env.BENCH_TTFT_SAMPLES ?? 300);
const documents = Number(env.BENCH_DOCUMENTS ?? 1000);
const phases = new Set((env.BENCH_PHASES ?? "latency,instant,ttft,streams").split(","));
const profileDir = env.BENCH_PROFILE;
const answerTokens = Number(env.BENCH_TOKENS ?? 200);
const tokenIntervalMs = Number(env.BENCH_TOKEN_INTERVAL_MS ?? 20);
const memoryLimitMb = env.BENCH_MEMORY_LIMIT_MB === undefined ? undefined : Number(env.BENCH_MEMORY_LIMIT_MB);

const TARGETS = {
  throughputRatio: 0.9,
  p99OverheadMs: 10,
  completionsCpuUs: 500,
  chatCpuUs: 800,
  ttftOverheadMs: 2,
  streamsRssMb: 512,
  /** A heartbeat is on time when it follows the one before within the interval and this much more. */
  heartbeatSlack: 0.25,
};

const here = fileURLToPath(new URL(".", import.meta.url));
const json = { "content-type": "application/json" };
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)];
};
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const round = (value, digits = 1) => Number(value.toFixed(digits));
/** "median [min–max]" of one figure over the repeats. */
const spread = (values, digits = 1) =>
  values.length === 1 ? `${round(values[0], digits)}` : `${round(median(values), digits)} [${round(Math.min(...values), digits)}–${round(Math.max(...values), digits)}]`;

function completionRequests(questions, stream) {
  return [
    {
      method: "POST",
      headers: json,
      setupRequest(request, context) {
        context.asked = ((context.asked ?? Math.floor(Math.random() * questions.length)) + 1) % questions.length;
        return { ...request, body: JSON.stringify({ model: "bench-model", stream, messages: [{ role: "user", content: questions[context.asked] }] }) };
      },
    },
  ];
}

async function control(upstream, settings) {
  const response = await fetch(`${upstream.url}/control`, { method: "POST", body: JSON.stringify(settings) });
  await response.arrayBuffer();
}

/**
 * The service's garbage collections so far, by kind, from its own /metrics (prom-client's
 * nodejs_gc_duration_seconds): { minor: { count, seconds }, major: ... }.
 */
async function collections(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const kinds = {};
  for (const [, field, kind, value] of text.matchAll(/^nodejs_gc_duration_seconds_(count|sum)\{kind="(\w+)"\} (\S+)$/gm)) {
    kinds[kind] ??= { count: 0, seconds: 0 };
    if (field === "count") kinds[kind].count = Number(value);
    else kinds[kind].seconds = Number(value);
  }
  return kinds;
}

/** One request on `agent`; resolves with its status (0 when the connection failed) and body. */
function send(agent, url, { method, headers, body }) {
  return new Promise((resolve) => {
    const request = httpRequest(url, { method, headers, agent }, (response) => {
      const parts = [];
      response.on("data", (part) => parts.push(part));
      response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(parts).toString("utf8") }));
      response.on("error", () => resolve({ status: 0, body: "" }));
    });
    request.on("error", () => resolve({ status: 0, body: "" }));
    request.end(body);
  });
}

/**
 * Loads one target with `connections` clients in a closed loop, each on its own kept-alive
 * connection, sending `target.requests` in turn (autocannon's format, so conversations carry on).
 * Unlike autocannon, warm-up and measurement are one run on the same connections, and the clients
 * start spread over one model delay: with a fixed delay, clients that all start in the same
 * millisecond stay in step, and the first wave, queued behind itself, would be the p99 of the run.
 * Counted: the requests completed within the measured window; latencies of those started in it.
 * CPU time is the process answering: the mock for direct, else the service.
 */
async function measure(target, connections, spreadMs) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const url = `${target.url}${target.path}`;
  const from = performance.now() + warmup * 1000;
  const to = from + seconds * 1000;
  const marks = [];
  const gcMarks = [];
  const mark = () => {
    const sched = schedSeconds(target.pid);
    marks.push({ cpu: cpuSeconds(target.pid), ran: sched?.ran ?? NaN, waited: sched?.waited ?? NaN, generator: process.cpuUsage() });
    if (target.service) gcMarks.push(collections(target.url));
  };
  const startMark = setTimeout(mark, warmup * 1000);
  const endMark = setTimeout(mark, (warmup + seconds) * 1000);
  const latencies = [];
  let completed = 0;
  let bad = 0;
  await Promise.all(
    Array.from({ length: connections }, async (_, client) => {
      await new Promise((resolve) => setTimeout(resolve, (client * spreadMs) / connections));
      const context = {};
      for (let turn = 0; performance.now() < to; turn = (turn + 1) % target.requests.length) {
        const template = target.requests[turn];
        const request = template.setupRequest?.({ method: template.method, headers: template.headers, body: template.body }, context) ?? template;
        const started = performance.now();
        const { status, body } = await send(agent, url, request);
        const ended = performance.now();
        template.onResponse?.(status, body, context);
        if (ended >= from && ended < to) completed += 1;
        if (started < from) continue;
        latencies.push(ended - started);
        if (status < 200 || status >= 300) bad += 1;
      }
    }),
  );
  // The clients stop at the end of the window, at the moment the end mark is due: whichever comes first.
  clearTimeout(startMark);
  clearTimeout(endMark);
  while (marks.length < 2) mark();
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const [start, end] = marks;
  const [gcStart, gcEnd] = await Promise.all(gcMarks);
  const gc = (kind, field) => (gcEnd?.[kind]?.[field] ?? NaN) - (gcStart?.[kind]?.[field] ?? NaN);
  return {
    rps: completed / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    bad,
    cpuUs: ((end.cpu - start.cpu) / completed) * 1e6,
    mainThreadUs: ((end.ran - start.ran) / completed) * 1e6,
    generatorCpuUs: (end.generator.user - start.generator.user + end.generator.system - start.generator.system) / completed,
    waitedPercent: ((end.waited - start.waited) / seconds) * 100,
    scavengesPerSecond: gc("minor", "count") / seconds,
    markCompactsPerSecond: gc("major", "count") / seconds,
    gcPausePercent: ((gc("minor", "seconds") + gc("major", "seconds") + gc("incremental", "seconds")) / seconds) * 100,
  };
}

/** Each repeat loads every target once, in turn; returns the runs of each target by name. */
async function loadPhase(targets, connections, spreadMs) {
  const runs = Object.fromEntries(targets.map(({ name }) => [name, []]));
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    for (const target of targets) runs[target.name].push(await measure(target, connections, spreadMs));
  }
  return runs;
}

function printLoad(title, runs) {
  const direct = runs.direct;
  console.log(`\n${title}`);
  console.table(
    Object.entries(runs).map(([name, list]) => ({
      target: name,
      "req/s": spread(list.map((run) => run.rps), 0),
      "× direct": name === "direct" ? "" : spread(list.map((run, index) => run.rps / direct[index].rps), 3),
      "p50 ms": spread(list.map((run) => run.p50)),
      "p99 ms": spread(list.map((run) => run.p99)),
      "p99 − direct ms": name === "direct" ? "" : spread(list.map((run, index) => run.p99 - direct[index].p99)),
      "CPU µs/req": spread(list.map((run) => run.cpuUs), 0),
      // What an HPA's CPU utilisation sees: the operator's default target holds a pod near half a core.
      cores: spread(list.map((run) => (run.cpuUs * run.rps) / 1e6), 2),
      "main thread µs/req": spread(list.map((run) => run.mainThreadUs), 0),
      "load generator µs/req": spread(list.map((run) => run.generatorCpuUs), 0),
      "waited for a core %": spread(list.map((run) => run.waitedPercent), 0),
      "scavenges/s": name === "direct" ? "" : spread(list.map((run) => run.scavengesPerSecond)),
      "mark-compacts/s": name === "direct" ? "" : spread(list.map((run) => run.markCompactsPerSecond), 2),
      "GC pauses %": name === "direct" ? "" : spread(list.map((run) => run.gcPausePercent)),
      "non-2xx/errors": list.reduce((sum, run) => sum + run.bad, 0),
    })),
  );
}

/** Sends one request and resolves with the ms until the response carried `marker`, once it has ended. */
function firstToken(agent, url, path, body, marker) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let seen = "";
    let at;
    const request = httpRequest(`${url}${path}`, { method: "POST", agent, headers: json }, (response) => {
      response.setEncoding("utf8");
      response.on("data", (text) => {
        if (at !== undefined) return;
        seen += text;
        if (seen.includes(marker)) at = performance.now() - started;
      });
      response.on("end", () => {
        if (response.statusCode === 200 && at !== undefined) resolve(at);
        else reject(new Error(`${path} answered ${response.statusCode} without ${marker}`));
      });
    });
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * Clients each ask direct, completions and chat in turn, streamed; ms to the first token. They start
 * spread over one model delay, so requests seldom meet in the service: this measures what the service
 * adds to one request, not how long requests wait for each other (the latency phase does).
 */
async function ttftPhase(direct, service, questions) {
  const agent = new Agent({ keepAlive: true });
  const workers = 8;
  const times = { direct: [], completions: [], chat: [] };
  const completion = (index) => JSON.stringify({ model: "bench-model", stream: true, messages: [{ role: "user", content: questions[index % questions.length] }] });
  const token = '"content":"The"';
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      await new Promise((resolve) => setTimeout(resolve, (worker * delayMs) / workers));
      for (let sample = worker; sample < ttftSamples; sample += workers) {
        times.direct.push(await firstToken(agent, direct.url, "/v1/chat/completions", completion(sample), token));
        times.completions.push(await firstToken(agent, service.url, "/v1/chat/completions", completion(sample), token));
        const message = questions[sample % questions.length];
        times.chat.push(await firstToken(agent, service.url, "/api/v1/chat", JSON.stringify({ message, stream: true }), "event: delta"));
      }
    }),
  );
  agent.destroy();
  return Object.fromEntries(Object.entries(times).map(([name, list]) => [name, list.sort((a, b) => a - b)]));
}

/**
 * Opens `count` SSE streams at once through the service while the model holds them after one token.
 * The question is one the knowledge base answers: the service declines any other without asking the model.
 */
async function streamsPhase(upstream, service, question) {
  await control(upstream, { delayMs: 0, jitterMs: 0, hold: true });
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const body = JSON.stringify({ model: "bench-model", stream: true, messages: [{ role: "user", content: question }] });
  const streams = [];
  const open = () =>
    new Promise((resolve) => {
      const stream = { opened: 0, beats: [], token: false, failed: false, request: undefined };
      stream.request = httpRequest(`${service.url}/v1/chat/completions`, { method: "POST", agent, headers: json }, (response) => {
        stream.opened = performance.now();
        if (response.statusCode !== 200) stream.failed = true;
        response.setEncoding("utf8");
        response.on("data", (text) => {
          if (text.includes(": heartbeat")) stream.beats.push(performance.now());
          if (!stream.token && text.includes('"content":"The"')) {
            stream.token = true;
            resolve();
          }
        });
        response.on("end", resolve);
      });
      stream.request.on("error", () => {
        stream.failed = true;
        resolve();
      });
      stream.request.end(body);
      streams.push(stream);
    });
  const started = performance.now();
  // Batches, so the listen backlog does not overflow while thousands of connections open.
  for (let opened = 0; opened < streamCount; opened += 250) {
    await Promise.all(Array.from({ length: Math.min(250, streamCount - opened) }, open));
  }
  const openMs = performance.now() - started;
  const holdStarted = performance.now();
  let peakRss = 0;
  while (performance.now() - holdStarted < holdSeconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    peakRss = Math.max(peakRss, memoryMb(service.child.pid)?.rss ?? 0);
  }
  // The gaps of the hold window: from the first heartbeat in it, each one to the next, and the last to its end.
  const holdEnd = performance.now();
  const gaps = [];
  for (const stream of streams) {
    const beats = stream.beats.filter((at) => at >= holdStarted);
    for (let index = 1; index < beats.length; index += 1) gaps.push(beats[index] - beats[index - 1]);
    gaps.push(holdEnd - (beats.at(-1) ?? holdStarted));
  }
  gaps.sort((a, b) => a - b);
  for (const stream of streams) stream.request.destroy();
  agent.destroy();
  await control(upstream, { delayMs: 0, hold: false });
  // The service drops the upstream streams of the clients that went away before the next run measures it.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return {
    opened: streams.filter((stream) => !stream.failed && stream.opened > 0).length,
    withToken: streams.filter((stream) => stream.token).length,
    openMs,
    peakRss,
    gaps,
  };
}

const { files, questions } = corpus("zipf", documents);
const kb = knowledgeDir(files);
const dataDir = mkdtempSync(join(tmpdir(), "assistant-bench-data-"));
const configDir = mkdtempSync(join(tmpdir(), "assistant-bench-config-"));
const upstream = await start(join(here, "upstream.mjs"), { UPSTREAM_DELAY_MS: "0" });
writeFileSync(
  join(configDir, "assistant.yaml"),
  JSON.stringify({
    knowledge: { dir: kb },
    model: { provider: "openai", baseURL: `${upstream.url}/v1`, name: "bench-model" },
    server: { sseHeartbeatMs: heartbeatMs },
  }),
);
const cgroup = memoryLimitMb === undefined ? undefined : memoryCgroup(memoryLimitMb);
const service = await start(
  SERVICE_MAIN,
  { PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, ASSISTANT_CONFIG: join(configDir, "assistant.yaml"), LOG_LEVEL: env.BENCH_LOG_LEVEL ?? "info" },
  [...(env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean), ...(profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`])],
  cgroup?.procs,
);

const results = [];
const verdict = (target, measured, ok) => results.push({ target, measured, result: ok ? "met" : "NOT met" });
try {
  await untilReady(service.url);
  const targets = (chatPath) => [
    { name: "direct", url: upstream.url, path: "/v1/chat/completions", requests: completionRequests(questions, false), pid: upstream.child.pid },
    { name: "completions", url: service.url, path: "/v1/chat/completions", requests: completionRequests(questions, false), pid: service.child.pid, service: true },
    { name: "chat", url: service.url, path: chatPath, requests: chatRequests(questions), pid: service.child.pid, service: true },
  ];
  console.log(
    `\n${documents} documents; ${repeats} repeats of ${seconds} s per target after ${warmup} s warm-up; ` +
      `model delay ${delayMs} ms; figures are median [min–max] over the repeats` +
      (memoryLimitMb === undefined ? "" : `; the service in a ${memoryLimitMb} MB memory cgroup`) +
      (env.BENCH_NODE_ARGS ? `; service flags: ${env.BENCH_NODE_ARGS}` : ""),
  );

  if (phases.has("latency")) {
    await control(upstream, { delayMs, jitterMs, hold: false });
    const runs = await loadPhase(targets("/api/v1/chat"), clients, delayMs);
    printLoad(`model answers after ${delayMs}${jitterMs === 0 ? "" : ` ± ${jitterMs}`} ms, ${clients} clients`, runs);
    for (const name of ["completions", "chat"]) {
      const ratios = runs[name].map((run, index) => run.rps / runs.direct[index].rps);
      verdict(`${name}: throughput ≥ ${TARGETS.throughputRatio}× direct`, `${spread(ratios, 3)}×`, median(ratios) >= TARGETS.throughputRatio);
      const added = runs[name].map((run, index) => run.p99 - runs.direct[index].p99);
      verdict(`${name}: p99 ≤ direct p99 + ${TARGETS.p99OverheadMs} ms`, `+${spread(added)} ms`, median(added) <= TARGETS.p99OverheadMs);
    }
    const bad = Object.values(runs).flat().reduce((sum, run) => sum + run.bad, 0);
    verdict("no non-2xx responses or errors", `${bad}`, bad === 0);
    console.log(`service resident memory after this phase: ${JSON.stringify(memoryMb(service.child.pid))} MB`);
  }

  if (phases.has("instant")) {
    await control(upstream, { delayMs: 0, jitterMs: 0, hold: false });
    const runs = await loadPhase(targets("/api/v1/chat"), instantClients, 0);
    printLoad(`model answers at once, ${instantClients} clients (CPU µs/req: the mock's for direct, the service's otherwise)`, runs);
    const cpu = (name) => runs[name].map((run) => run.cpuUs);
    verdict(`completions: CPU ≤ ${TARGETS.completionsCpuUs} µs/request`, `${spread(cpu("completions"), 0)} µs`, median(cpu("completions")) <= TARGETS.completionsCpuUs);
    verdict(`chat: CPU ≤ ${TARGETS.chatCpuUs} µs/request`, `${spread(cpu("chat"), 0)} µs`, median(cpu("chat")) <= TARGETS.chatCpuUs);
  }

  if (phases.has("ttft")) {
    await control(upstream, { delayMs, jitterMs: 0, hold: false });
    const times = await ttftPhase(upstream, service, questions);
    console.log(`\nstreamed, model's first token after ${delayMs} ms: time to first token, ${ttftSamples} samples per target, 8 clients started apart`);
    console.table(
      Object.entries(times).map(([name, sorted]) => ({
        target: name,
        "p50 ms": round(quantile(sorted, 0.5), 2),
        "p99 ms": round(quantile(sorted, 0.99), 2),
        "p50 − direct ms": name === "direct" ? "" : round(quantile(sorted, 0.5) - quantile(times.direct, 0.5), 2),
        "p99 − direct ms": name === "direct" ? "" : round(quantile(sorted, 0.99) - quantile(times.direct, 0.99), 2),
      })),
    );
    for (const name of ["completions", "chat"]) {
      const added = quantile(times[name], 0.5) - quantile(times.direct, 0.5);
      verdict(`${name}: first-token overhead ≤ ${TARGETS.ttftOverheadMs} ms p50`, `${round(added, 2)} ms`, added <= TARGETS.ttftOverheadMs);
    }
  }

  if (phases.has("streams")) {
    const held = await streamsPhase(upstream, service, questions[0]);
    const late = heartbeatMs * (1 + TARGETS.heartbeatSlack);
    console.log(
      `\n${streamCount} SSE streams through /v1/chat/completions: ${held.opened} opened in ${Math.round(held.openMs)} ms, ` +
        `${held.withToken} with the model's first token; held ${holdSeconds} s, heartbeat every ${heartbeatMs} ms`,
    );
    console.table([
      {
        "service peak RSS MB": held.peakRss,
        "heartbeat gap p50 ms": Math.round(quantile(held.gaps, 0.5)),
        "p99 ms": Math.round(quantile(held.gaps, 0.99)),
        "max ms": Math.round(held.gaps.at(-1)),
        [`gaps > ${late} ms`]: held.gaps.filter((gap) => gap > late).length,
      },
    ]);
    verdict(`${streamCount} streams open at once, each with its model stream`, `${held.withToken}`, held.withToken === streamCount);
    verdict(`streams: service RSS ≤ ${TARGETS.streamsRssMb} MB`, `${held.peakRss} MB`, held.peakRss <= TARGETS.streamsRssMb);
    verdict(`streams: every heartbeat gap ≤ ${late} ms`, `max ${Math.round(held.gaps.at(-1))} ms`, held.gaps.at(-1) <= late);
  }

  if (phases.has("tokens")) {
    await control(upstream, { delayMs, jitterMs: 0, hold: false, tokens: answerTokens, tokenIntervalMs });
    const streamed = { name: "completions streamed", url: service.url, path: "/v1/chat/completions", requests: completionRequests(questions, true), pid: service.child.pid, service: true };
    const runs = await loadPhase([...targets("/api/v1/chat"), streamed], clients, delayMs + answerTokens * tokenIntervalMs);
    await control(upstream, { tokens: 0, tokenIntervalMs: 0 });
    printLoad(`the model streams ${answerTokens} tokens, one event each ${tokenIntervalMs} ms apart after ${delayMs} ms, ${clients} clients`, runs);
    console.table(
      Object.entries(runs)
        .filter(([name]) => name !== "direct")
        .map(([name, list]) => ({ target: name, "CPU µs per token": spread(list.map((run) => run.cpuUs / answerTokens), 1) })),
    );
  }

  console.log("\ntargets");
  console.table(results);
} finally {
  await stopAll([service.child, upstream.child]);
  cgroup?.remove();
  for (const dir of [kb, dataDir, configDir]) rmSync(dir, { recursive: true, force: true });
}
