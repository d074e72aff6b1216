// Chat latency while a large ingestion runs: loads POST /api/v1/chat (extractive model, 200-document
// knowledge folder) with autocannon, first alone, then while hundreds of uploaded documents are
// parsed, chunked and indexed in the background, and prints p50/p99 of both runs and how much was
// ingested meanwhile.
//
//   npm run build && node assistant/bench/retrieval/chat-during-ingestion.mjs
//   BENCH_SECONDS=10 BENCH_CONNECTIONS=10 BENCH_UPLOADS=800 node assistant/bench/retrieval/chat-during-ingestion.mjs
import { Buffer } from "node:buffer";
import autocannon from "autocannon";
import { startService } from "../../dist/test/support/service.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const uploads = Number(process.env.BENCH_UPLOADS ?? 1500);

let seed = 3;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = (items) => items[Math.floor(random() * items.length)];
const topics = ["VPN", "laptop", "password", "printer", "expense", "travel", "badge", "parking", "年假", "报销", "差旅", "加班", "社保", "门禁"];
const sentence = () => (random() < 0.5 ? `The ${pick(topics)} request is approved by the ${pick(topics)} desk within two days.` : `${pick(topics)}申请由${pick(topics)}部门在两天内审批。`);
// Uploads use words the chat questions never ask about: the chat's searches then cost the same before
// and during the ingestion, and what changes is only the work running beside them.
const syllables = "ka lo mi ne su ta ri po ve da".split(" ");
const otherWords = syllables.flatMap((a) => syllables.map((b) => `${a}${b}`));
const otherSentence = () => (random() < 0.5 ? `The ${pick(otherWords)} ${pick(otherWords)} goes to the ${pick(otherWords)} ${pick(otherWords)}.` : `${pick(["甲乙", "丙丁", "戊己", "庚辛", "壬癸"])}的${pick(["东西", "南北", "上下", "左右"])}在${pick(["春夏", "秋冬"])}。`);
const documentText = (title, paragraphs, write = sentence) =>
  `# ${title}\n\n${Array.from({ length: paragraphs }, (_, index) => `## Part ${index}\n\n${Array.from({ length: 8 }, write).join(" ")}`).join("\n\n")}\n`;

const knowledge = Object.fromEntries(Array.from({ length: 200 }, (_, index) => [`${index % 10}/doc-${index}.md`, documentText(`${pick(topics)} ${index}`, 4)]));
const service = await startService({ knowledge, config: { knowledge: { maxUploadBytes: 10485760 } } });
const { url } = service;

const json = { "content-type": "application/json" };
const questions = ["How is a VPN request approved?", "年假怎么审批？", "Who approves travel expenses?", "门禁申请由哪个部门审批？"];
const chatLoad = () =>
  autocannon({
    url: `${url}/api/v1/chat`,
    connections,
    duration: seconds,
    requests: [{ method: "POST", headers: json, setupRequest: (request) => ({ ...request, body: JSON.stringify({ message: pick(questions) }) }) }],
  });
const jobs = async () => (await (await fetch(`${url}/api/v1/knowledge/jobs?limit=100`)).json()).items;

try {
  await chatLoad();
  const alone = await chatLoad();

  // Queue the whole ingestion first (each upload answers 202 at once), then load chat while it runs.
  let bytes = 0;
  const ids = [];
  for (let index = 0; index < uploads; index += 1) {
    const text = documentText(`Upload ${index}`, 40, otherSentence);
    bytes += Buffer.byteLength(text);
    const response = await fetch(`${url}/api/v1/knowledge/documents`, { method: "POST", headers: json, body: JSON.stringify({ source: `uploads/${index}.md`, text }) });
    ids.push((await response.json()).job.id);
  }
  const started = Date.now();
  const during = await chatLoad();
  const elapsed = (Date.now() - started) / 1000;
  const recent = await jobs();
  const pending = recent.filter((job) => job.status === "queued" || job.status === "running").length;
  let done = 0;
  for (const id of ids) {
    const job = await (await fetch(`${url}/api/v1/knowledge/jobs/${id}`)).json();
    if (job.status === "succeeded") done += 1;
  }
  const row = (name, result) =>
    `${name.padEnd(28)} ${String(Math.round(result.requests.average)).padStart(7)} req/s   p50 ${String(result.latency.p50).padStart(4)} ms   p99 ${String(result.latency.p99).padStart(4)} ms   errors ${result.errors + result.non2xx}`;
  console.log(`POST /api/v1/chat, ${connections} connections, ${seconds} s each (extractive model, 200-document knowledge folder)\n`);
  console.log(row("chat alone", alone));
  console.log(row("chat during ingestion", during));
  console.log(
    `\ningestion queued: ${uploads} documents, ${(bytes / 1e6).toFixed(1)} MB; ${done} indexed during the ${elapsed.toFixed(0)} s chat run ` +
      `(${((bytes / uploads) * done / 1e6 / elapsed).toFixed(2)} MB/s while serving chat), ${pending > 0 ? "still ingesting at the end" : "ingestion finished before the end"}`,
  );
} finally {
  await service.stop();
}
