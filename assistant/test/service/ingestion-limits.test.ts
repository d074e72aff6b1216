import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { apiClient } from "../support/client.js";
import { deflated, docxPackage, DOCUMENT_XML_END, DOCUMENT_XML_START, pdfOfContents } from "../support/documents.js";
import { settledJob, uploadFile, type JobView } from "../support/knowledge-api.js";
import { livenessProbe, longestFailureRun, probeLiveness } from "../support/probes.js";
import { startService, type RunningService } from "../support/service.js";

const GIBIBYTE = 1 << 30;

/** A .docx whose document.xml inflates to `bytes` of one letter (a few hundred bytes per MiB of it). */
const docxBomb = (bytes: number): Buffer => docxPackage(deflated([DOCUMENT_XML_START, "<w:p><w:r><w:t>", { repeat: "a", bytes }, "</w:t></w:r></w:p>", DOCUMENT_XML_END]));
/** 64 bytes of a PDF content stream that show 51 letters, all in one place (text off the page is not extracted). */
const SHOW = `0 0 Td (${"a".repeat(51)}) Tj `;
/** A one-page PDF whose one FlateDecode content stream is `bytes` of text shown. */
const pdfBomb = (bytes: number): Buffer => pdfOfContents([deflated(["BT /F1 12 Tf 72 720 Td ", { repeat: SHOW, bytes }, " ET"])]);

/** The resident memory of a process and its descendants, in bytes (Linux). */
function treeRss(pid: number): number {
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  } catch {
    // ended meanwhile
  }
  return children.reduce((total, child) => total + treeRss(child), rss);
}


/**
 * Uploads the files and waits for their jobs while probing /healthz and sampling the memory of the
 * service and its parsing process, as a load balancer and the kubelet would watch them.
 */
async function ingestWatched(service: RunningService, files: { name: string; content: Buffer }[]): Promise<{ jobs: JobView[]; probes: boolean[]; peakRss: number }> {
  const call = apiClient(service.url);
  const accepted = await Promise.all(files.map((file) => uploadFile(service.url, undefined, file)));
  for (const { status, body } of accepted) assert.equal(status, 202, JSON.stringify(body));
  const settled = Promise.all(accepted.map(({ body }) => settledJob(call, body.job.id)));
  let done = false;
  void settled.finally(() => (done = true));
  const probes: boolean[] = [];
  let peakRss = 0;
  while (!done) {
    peakRss = Math.max(peakRss, treeRss(service.child.pid ?? 0));
    probes.push(await probeLiveness(service));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { jobs: await settled, probes, peakRss };
}

describe("documents that unpack to too much, against the service as it ships (default config)", function () {
  this.timeout(180000);
  let service: RunningService;
  before(async () => {
    service = await startService();
  });
  after(async () => {
    await service.stop();
  });

  it("fails a .docx and a PDF that inflate to 1 GiB at once, naming the limit, while /healthz answers and memory stays bounded", async () => {
    const files = [
      { name: "bomb.docx", content: docxBomb(GIBIBYTE) },
      { name: "bomb.pdf", content: pdfBomb(GIBIBYTE) },
    ];
    // A few megabytes each, as the probe's were.
    for (const { content } of files) assert.ok(content.length < 4 * 2 ** 20, `${content.length} bytes`);
    const { jobs, probes, peakRss } = await ingestWatched(service, files);
    for (const job of jobs) {
      assert.deepEqual([job.status, job.attempts], ["failed", 1], job.source);
      assert.match(job.error ?? "", /unpacks to more than knowledge\.maxUncompressedBytes \(67108864 bytes\)/);
      assert.equal(job.documentId, null);
    }
    // Before, the .docx took the process to 3.2 GB and the PDF to 2.25 GB.
    assert.ok(peakRss < GIBIBYTE, `the service and its parser reached ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(longestFailureRun(probes) < livenessProbe.failureThreshold, `liveness probes meanwhile: ${probes.join(" ")}`);
    assert.equal((await apiClient(service.url)<{ items: unknown[] }>("GET", "/api/v1/knowledge/documents")).body.items.length, 0);
  });

  it("fails a PDF whose text passes knowledge.maxDocumentChars at once, and indexes none of it", async () => {
    // 16 MiB of content stream, 13 million letters: under the inflation limit, over the text limit.
    const { jobs } = await ingestWatched(service, [{ name: "long.pdf", content: pdfBomb(16 * 2 ** 20) }]);
    const [job] = jobs;
    assert.deepEqual([job?.status, job?.attempts], ["failed", 1]);
    assert.match(job?.error ?? "", /more than knowledge\.maxDocumentChars \(10000000\)/);
  });
});

describe("a document that needs more memory than the parser may have", function () {
  this.timeout(180000);
  let service: RunningService;
  before(async () => {
    // Only the memory limit stands in the way: the inflation and text limits are as high as they go.
    service = await startService({ config: { knowledge: { parseMemoryMb: 64, maxUncompressedBytes: 4 * GIBIBYTE, maxDocumentChars: 1e9 } } });
  });
  after(async () => {
    await service.stop();
  });

  it("fails, naming knowledge.parseMemoryMb, while the service keeps serving", async () => {
    const { jobs, probes, peakRss } = await ingestWatched(service, [{ name: "bomb.pdf", content: pdfBomb(2 * GIBIBYTE) }]);
    const [job] = jobs;
    assert.equal(job?.status, "failed");
    assert.match(job?.error ?? "", /needs more memory than knowledge\.parseMemoryMb allows \(64 MiB\)/);
    assert.ok(peakRss < GIBIBYTE, `the service and its parser reached ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(longestFailureRun(probes) < livenessProbe.failureThreshold, `liveness probes meanwhile: ${probes.join(" ")}`);
    assert.equal(service.child.exitCode, null);
  });
});

describe("ingestion shared between tenants", function () {
  this.timeout(120000);
  const keys = { acme: "acme-ingest-Qa7Ws3Ed9Rf1", globex: "globex-ingest-Tg5Yh2Uj8Ik4" };
  let service: RunningService;
  before(async () => {
    service = await startService({
      config: {
        auth: { mode: "apiKey", apiKeys: Object.entries(keys).map(([tenant, key]) => ({ name: tenant, key, tenant })) },
        // A document that makes this rule backtrack for hours stands for any that runs into parseTimeoutMs.
        privacy: { maskKnowledge: true, rules: [{ name: "slow", pattern: "(a+)+b" }] },
      },
    });
  });
  after(async () => {
    await service.stop();
  });

  it("indexes another tenant's small document while one tenant's slow documents still run", async () => {
    const slow = `${"a".repeat(48)}c`;
    const acme = await Promise.all(["slow-1.txt", "slow-2.txt"].map((name) => uploadFile(service.url, keys.acme, { name, content: slow })));
    const acmeCall = apiClient(service.url, keys.acme);
    const acmeStatuses = async () => (await Promise.all(acme.map(({ body }) => acmeCall<JobView>("GET", `/api/v1/knowledge/jobs/${body.job.id}`)))).map(({ body }) => body.status).sort();
    while (!(await acmeStatuses()).includes("running")) await new Promise((resolve) => setTimeout(resolve, 20));
    const tiny = await uploadFile(service.url, keys.globex, { name: "tiny.md", content: "# Tiny\n\nhello there!!" });
    const job = await settledJob(apiClient(service.url, keys.globex), tiny.body.job.id);
    assert.equal(job.status, "succeeded");
    // Before, it waited for the slow one's 120 s parse timeout. The slow tenant holds one worker,
    // however many documents it has queued, and that one is still parsing.
    assert.deepEqual(await acmeStatuses(), ["queued", "running"]);
  });
});

