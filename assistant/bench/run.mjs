// Loads POST /api/v1/chat (extractive model, a 1,000-document knowledge base, SQLite persistence on)
// and, in the same run, a bare Fastify JSON endpoint; prints req/s, p50 and p99 for both and the ratio.
//
//   npm run build && node assistant/bench/run.mjs            (20 s per target)
//   BENCH_SECONDS=5 BENCH_CONNECTIONS=10 node assistant/bench/run.mjs
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const documents = 1000;
const here = fileURLToPath(new URL(".", import.meta.url));

let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = (items) => items[Math.floor(random() * items.length)];

const zhTopics = ["年假", "报销", "差旅", "加班", "社保", "公积金", "考勤", "入职", "离职", "培训", "绩效", "采购", "合同", "门禁", "会议室"];
const zhVerbs = ["需要提前申请", "由人事部门审批", "在OA系统中提交", "每月统计一次", "按照公司制度执行", "可以线上办理"];
const enTopics = ["VPN", "laptop", "password", "printer", "expense", "travel", "badge", "parking", "onboarding", "backup", "email", "wiki", "payroll", "security", "firewall"];
const enVerbs = ["must be requested through the portal", "is approved by the manager", "is reviewed every quarter", "requires two-factor authentication", "is handled by the IT desk", "follows the company policy"];

function knowledgeBase() {
  const dir = mkdtempSync(join(tmpdir(), "assistant-bench-kb-"));
  for (let index = 0; index < documents; index += 1) {
    const chinese = index % 2 === 0;
    const topic = chinese ? pick(zhTopics) : pick(enTopics);
    const paragraphs = Array.from({ length: 4 }, () =>
      Array.from({ length: 3 }, () => (chinese ? `${pick(zhTopics)}${pick(zhVerbs)}。` : `The ${pick(enTopics)} ${pick(enVerbs)}.`)).join(chinese ? "" : " "),
    );
    mkdirSync(join(dir, String(index % 10)), { recursive: true });
    writeFileSync(join(dir, String(index % 10), `doc-${index}.md`), `# ${topic} ${index}\n\n${paragraphs.join("\n\n")}\n`);
  }
  return dir;
}

function start(script, env) {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === "listening") resolve({ child, url: `http://127.0.0.1:${entry.port}` });
      } catch {
        // plain output
      }
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function untilReady(url) {
  for (;;) {
    const response = await fetch(`${url}/readyz`);
    if (response.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function load(url, path, bodies) {
  return autocannon({
    url: `${url}${path}`,
    connections,
    duration: seconds,
    requests: bodies.map((body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })),
  });
}

const kb = knowledgeBase();
const dataDir = mkdtempSync(join(tmpdir(), "assistant-bench-data-"));
const configDir = mkdtempSync(join(tmpdir(), "assistant-bench-config-"));
writeFileSync(join(configDir, "assistant.yaml"), `knowledge:\n  dir: ${kb}\n`);
const service = await start(join(here, "../dist/src/main.js"), {
  PORT: "0",
  HOST: "127.0.0.1",
  DATA_DIR: dataDir,
  ASSISTANT_CONFIG: join(configDir, "assistant.yaml"),
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
});
const ingestStarted = Date.now();
await untilReady(service.url);
const ingestMs = Date.now() - ingestStarted;
const bare = await start(join(here, "bare.mjs"), {});

try {
  const questions = [
    { message: "年假需要怎么申请？" },
    { message: "报销由谁审批？" },
    { message: "How do I get VPN access?" },
    { message: "Who approves travel expenses?" },
    { message: "公积金可以线上办理吗" },
    { message: "Is the printer handled by the IT desk?" },
  ];
  const baseline = await load(bare.url, "/echo", [{ ping: true }]);
  const chat = await load(service.url, "/api/v1/chat", questions);
  const row = (name, result) => ({
    target: name,
    "req/s": Math.round(result.requests.average),
    "p50 ms": result.latency.p50,
    "p99 ms": result.latency.p99,
    errors: result.errors + result.non2xx,
  });
  console.log(`\n${documents} documents indexed in ${ingestMs} ms; ${seconds} s per target, ${connections} connections\n`);
  console.table([row("bare Fastify JSON", baseline), row("POST /api/v1/chat", chat)]);
  const ratio = chat.requests.average / baseline.requests.average;
  console.log(`chat/bare throughput ratio: ${(ratio * 100).toFixed(1)}% (target >= 25%); chat p99 ${chat.latency.p99} ms (target < 50 ms)`);
} finally {
  const exited = [service.child, bare.child].map((child) => new Promise((resolve) => child.once("exit", resolve)));
  service.child.kill("SIGTERM");
  bare.child.kill("SIGTERM");
  await Promise.all(exited);
  for (const dir of [kb, dataDir, configDir]) rmSync(dir, { recursive: true, force: true });
}
