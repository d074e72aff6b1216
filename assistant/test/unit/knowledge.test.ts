import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { createMetrics, type Metrics } from "../../src/observability/metrics.js";
import { ASSISTANT_COLLECTION } from "../../src/retrieval/collections.js";
import { IngestionQueue, type IngestionSettings } from "../../src/retrieval/ingestion.js";
import { KnowledgeBase } from "../../src/retrieval/knowledge-base.js";
import { bm25Retriever, syncKnowledgeDir } from "../../src/retrieval/knowledge.js";
import { DEFAULT_DOCUMENT_LIMITS } from "../../src/retrieval/document-format.js";
import { openSqliteStorage } from "../../src/storage/sqlite.js";
import type { Storage } from "../../src/storage/types.js";
import { docxOf } from "../support/documents.js";

const settings: IngestionSettings = { chunkChars: 800, chunkOverlapChars: 0, maxAttempts: 3, retryBaseMs: 10, jobRetentionMs: 86400000, workers: 1, prepareTimeoutMs: 30000, prepareMemoryMb: 256, limits: DEFAULT_DOCUMENT_LIMITS };

describe("knowledge ingestion", function () {
  this.timeout(30000);
  let root: string;
  let kb: string;
  let storage: Storage;
  let metrics: Metrics;
  const queues: IngestionQueue[] = [];
  const startQueue = async (store: Storage, overrides: Partial<IngestionSettings> = {}): Promise<IngestionQueue> => {
    const queue = new IngestionQueue(store, { ...settings, ...overrides }, metrics, pino({ level: "silent" }));
    queues.push(queue);
    await queue.start();
    return queue;
  };
  const sync = async (queue: IngestionQueue) => {
    const { jobIds, ...report } = await syncKnowledgeDir(storage, queue, kb, pino({ level: "silent" }));
    await Promise.all(jobIds.map((id) => queue.finished(ASSISTANT_COLLECTION, id)));
    return report;
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "assistant-kb-"));
    kb = join(root, "kb");
    mkdirSync(join(kb, "hr"), { recursive: true });
    storage = openSqliteStorage(join(root, "data"), "normal");
    metrics = createMetrics(() => Promise.resolve(0));
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((queue) => queue.stop()));
    await storage.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("indexes the readable files of a folder in the background and re-syncs by content hash", async () => {
    const queue = await startQueue(storage);
    writeFileSync(join(kb, "hr", "leave.md"), "# 年假\n\n员工入职满一年后享有5天带薪年假。\n");
    writeFileSync(join(kb, "vpn.txt"), "Connect to the VPN with the client.\n");
    writeFileSync(join(kb, "expenses.docx"), docxOf([{ heading: "Expenses" }, { paragraph: "Receipts are required for reimbursement." }]));
    writeFileSync(join(kb, "image.png"), "not text");
    assert.deepEqual(await sync(queue), { queued: 3, unchanged: 0, removed: 0, failed: 0, waiting: 0 });
    const retriever = bm25Retriever(storage);
    // Any tenant reads the assistant's collection.
    assert.equal(await retriever.documentCount("anyone"), 3);
    const [hit] = await retriever.search("anyone", "年假几天", 3);
    assert.deepEqual([hit?.source, hit?.title, hit?.collection], ["hr/leave.md", "年假", ASSISTANT_COLLECTION]);
    assert.equal((await retriever.search("anyone", "reimbursement receipts", 3))[0]?.title, "Expenses");

    writeFileSync(join(kb, "vpn.txt"), "Connecting requires the new VPN client.\n");
    rmSync(join(kb, "hr", "leave.md"));
    assert.deepEqual(await sync(queue), { queued: 1, unchanged: 1, removed: 1, failed: 0, waiting: 0 });
    assert.deepEqual(await sync(queue), { queued: 0, unchanged: 2, removed: 0, failed: 0, waiting: 0 });
    assert.deepEqual(await retriever.search("anyone", "年假", 3), []);
    assert.match((await retriever.search("anyone", "connect vpn", 3))[0]?.text ?? "", /new VPN client/);
  });

  it("does not queue a file whose content failed again at every sync, but does once it changes", async () => {
    const queue = await startQueue(storage);
    writeFileSync(join(kb, "broken.pdf"), "%PDF-1.4 not really");
    assert.deepEqual(await sync(queue), { queued: 1, unchanged: 0, removed: 0, failed: 0, waiting: 0 });
    const jobs = async () => (await storage.listJobs(ASSISTANT_COLLECTION, 10)).filter((job) => job.source === "broken.pdf");
    assert.deepEqual((await jobs()).map((job) => job.status), ["failed"]);
    assert.deepEqual(await sync(queue), { queued: 0, unchanged: 0, removed: 0, failed: 0, waiting: 1 });
    assert.equal((await jobs()).length, 1, "no second job for the same broken content");
    writeFileSync(join(kb, "broken.pdf"), "%PDF-1.4 still not, but different");
    assert.deepEqual(await sync(queue), { queued: 1, unchanged: 0, removed: 0, failed: 0, waiting: 0 });
  });

  it("waits for the job another replica queued for the same content instead of calling the knowledge loaded", async () => {
    const content = "# 年假\n\n员工入职满一年后享有5天带薪年假。\n";
    writeFileSync(join(kb, "hr", "leave.md"), content);
    // Another replica on the same store queued this very content and has not run it yet.
    const other = new IngestionQueue(storage, settings, metrics, pino({ level: "silent" }));
    const theirs = await other.submit({ collection: ASSISTANT_COLLECTION, source: "hr/leave.md", format: "markdown", contentHash: other.contentHash(Buffer.from(content), { format: "markdown" }), content: Buffer.from(content) });
    const ours = new IngestionQueue(storage, settings, metrics, pino({ level: "silent" }));
    const { jobIds, ...report } = await syncKnowledgeDir(storage, ours, kb, pino({ level: "silent" }));
    assert.deepEqual(report, { queued: 0, unchanged: 0, removed: 0, failed: 0, waiting: 1 });
    assert.deepEqual(jobIds, [theirs.id]);
  });

  it("leaves the documents of knowledge URLs alone when syncing the folder", async () => {
    const queue = await startQueue(storage);
    await storage.putDocument(ASSISTANT_COLLECTION, { source: "https://intranet.example/handbook", title: "Handbook", contentHash: "h", chunks: [] });
    writeFileSync(join(kb, "a.md"), "# A\n\nalpha");
    assert.deepEqual(await sync(queue), { queued: 1, unchanged: 0, removed: 0, failed: 0, waiting: 0 });
    assert.deepEqual((await storage.listDocuments(ASSISTANT_COLLECTION)).map((document) => document.source), ["a.md", "https://intranet.example/handbook"]);
  });

  it("fails an unreadable document at once and keeps going with the next", async () => {
    const queue = await startQueue(storage);
    const broken = await queue.submit({ collection: "tenant/a", source: "broken.pdf", format: "pdf", contentHash: "h1", content: Buffer.from("%PDF-1.4 nothing") });
    const good = await queue.submit({ collection: "tenant/a", source: "good.md", format: "markdown", contentHash: "h2", content: Buffer.from("# Good\n\nfine words") });
    await queue.finished("tenant/a", good.id);
    await queue.finished("tenant/a", broken.id);
    const failed = await storage.getJob("tenant/a", broken.id);
    assert.deepEqual([failed?.status, failed?.attempts], ["failed", 1]);
    assert.match(failed?.error ?? "", /not a readable PDF/);
    assert.deepEqual(await storage.getJob("tenant/a", good.id).then((job) => [job?.status, job?.outcome, job?.chunkCount]), ["succeeded", "indexed", 1]);
    const again = await queue.submit({ collection: "tenant/a", source: "good.md", format: "markdown", contentHash: "h2", content: Buffer.from("# Good\n\nfine words") });
    await queue.finished("tenant/a", again.id);
    assert.equal((await storage.getJob("tenant/a", again.id))?.outcome, "unchanged");
  });

  it("retries a failed attempt with backoff, then fails for good after maxAttempts", async () => {
    let failures = 1;
    // The real store, with its writes failing as often as the test says.
    const flaky: Storage = Object.create(storage) as Storage;
    flaky.storeJobDocument = (jobId, collection, document) =>
      failures-- > 0 ? Promise.reject(new Error("disk hiccup")) : storage.storeJobDocument(jobId, collection, document);
    const queue = await startQueue(flaky, { maxAttempts: 2 });
    const recovered = await queue.submit({ collection: "tenant/a", source: "a.md", format: "markdown", contentHash: "h1", content: Buffer.from("alpha") });
    await queue.finished("tenant/a", recovered.id);
    assert.deepEqual(await storage.getJob("tenant/a", recovered.id).then((job) => [job?.status, job?.attempts, job?.error]), ["succeeded", 2, null]);
    failures = 2;
    const doomed = await queue.submit({ collection: "tenant/a", source: "b.md", format: "markdown", contentHash: "h2", content: Buffer.from("beta") });
    await queue.finished("tenant/a", doomed.id);
    assert.deepEqual(await storage.getJob("tenant/a", doomed.id).then((job) => [job?.status, job?.attempts, job?.error]), ["failed", 2, "disk hiccup"]);
    const counts = await metrics.registry.getSingleMetric("assistant_ingestion_jobs_total")?.get();
    assert.deepEqual(Object.fromEntries((counts?.values ?? []).map((value) => [value.labels["outcome"], value.value])), { retried: 2, indexed: 1, failed: 1 });
  });

  it("runs a job a crashed process left running again at the next start", async () => {
    await storage.enqueueJob({ collection: "tenant/a", source: "a.md", format: "markdown", contentHash: "h1", content: Buffer.from("# A\n\ninterrupted words") });
    const claimed = await storage.claimJob(new Date().toISOString());
    assert.equal(claimed?.status, "running");
    // The claiming process is gone without a word: the next one opens the same file.
    await storage.close();
    storage = openSqliteStorage(join(root, "data"), "normal");
    const queue = await startQueue(storage);
    await queue.finished("tenant/a", claimed?.id ?? "");
    assert.deepEqual(await storage.getJob("tenant/a", claimed?.id ?? "").then((job) => [job?.status, job?.attempts]), ["succeeded", 2]);
    assert.equal((await bm25Retriever(storage).search("a", "interrupted", 1))[0]?.source, "a.md");
  });

  it("fails a job that crashed processes left running once it has used its attempts, instead of running it at every start", async () => {
    const poisonous = await storage.enqueueJob({ collection: "tenant/a", source: "a.md", format: "markdown", contentHash: "h1", content: Buffer.from("# A\n\nwords") });
    assert.equal((await storage.claimJob(new Date().toISOString()))?.attempts, 1);
    await storage.close();
    storage = openSqliteStorage(join(root, "data"), "normal");
    const queue = await startQueue(storage, { maxAttempts: 1 });
    await queue.finished("tenant/a", poisonous.id);
    const job = await storage.getJob("tenant/a", poisonous.id);
    assert.deepEqual([job?.status, job?.attempts], ["failed", 1]);
    assert.match(job?.error ?? "", /process stopped during each of its 1 attempts \(knowledge\.maxAttempts is 1\)/);
  });

  it("indexes the same text again when it comes back with a corrected format or title", async () => {
    const queue = await startQueue(storage);
    const knowledge = new KnowledgeBase(storage, queue, bm25Retriever(storage));
    const content = Buffer.from("<h1>Leave</h1><p>Annual leave is 10 days.</p>");
    const asMarkdown = await knowledge.upload("acme", { source: "policy", format: "markdown", content });
    await queue.finished("tenant/acme", asMarkdown.id);
    const asHtml = await knowledge.upload("acme", { source: "policy", format: "html", title: "Leave policy", content });
    await queue.finished("tenant/acme", asHtml.id);
    assert.equal((await storage.getJob("tenant/acme", asHtml.id))?.outcome, "indexed");
    const [hit] = await bm25Retriever(storage).search("acme", "annual leave", 1);
    assert.deepEqual([hit?.title, hit?.text.includes("<h1>")], ["Leave policy", false]);
    const again = await knowledge.upload("acme", { source: "policy", format: "html", title: "Leave policy", content });
    await queue.finished("tenant/acme", again.id);
    assert.equal((await storage.getJob("tenant/acme", again.id))?.outcome, "unchanged");
  });

  it("fails a deleted document's queued upload, so the delete stays a delete", async () => {
    const first = await startQueue(storage);
    const knowledge = new KnowledgeBase(storage, first, bm25Retriever(storage));
    const v1 = await knowledge.upload("acme", { source: "secret.md", format: "markdown", content: Buffer.from("# Secret\n\nfirst draft") });
    await first.finished("tenant/acme", v1.id);
    await first.stop();
    // Nothing works the queue now: the second version waits while the document is deleted.
    const v2 = await knowledge.upload("acme", { source: "secret.md", format: "markdown", content: Buffer.from("# Secret\n\nsecond draft") });
    const { documentId } = (await storage.getJob("tenant/acme", v1.id)) ?? {};
    assert.equal(await knowledge.deleteDocument("acme", documentId ?? ""), "deleted");
    assert.deepEqual(await storage.getJob("tenant/acme", v2.id).then((job) => [job?.status, job?.error]), ["failed", "the document was deleted before this upload was indexed"]);
    const second = await startQueue(storage);
    await second.finished("tenant/acme", v2.id);
    assert.equal(await storage.countDocuments(["tenant/acme"]), 0);
    assert.deepEqual(await bm25Retriever(storage).search("acme", "draft", 5), []);
  });

  it("stores nothing for an upload whose document is deleted while it runs", async () => {
    const queue = await startQueue(storage);
    const knowledge = new KnowledgeBase(storage, queue, bm25Retriever(storage));
    const v1 = await knowledge.upload("acme", { source: "plan.md", format: "markdown", content: Buffer.from("# Plan\n\nfirst draft") });
    await queue.finished("tenant/acme", v1.id);
    const big = Array.from({ length: 40000 }, (_, index) => `Paragraph ${String(index)} of the second draft.`).join("\n\n");
    const v2 = await knowledge.upload("acme", { source: "plan.md", format: "markdown", content: Buffer.from(big) });
    for (let polls = 0; (await storage.getJob("tenant/acme", v2.id))?.status !== "running"; polls += 1) {
      assert.ok(polls < 500, "the job never started");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const { documentId } = (await storage.getJob("tenant/acme", v1.id)) ?? {};
    assert.equal(await knowledge.deleteDocument("acme", documentId ?? ""), "deleted");
    // One job at a time: once the next one has ended, the cancelled one has finished its run.
    const after = await knowledge.upload("acme", { source: "other.md", format: "markdown", content: Buffer.from("# Other\n\nunrelated") });
    await queue.finished("tenant/acme", after.id);
    assert.deepEqual(await storage.getJob("tenant/acme", v2.id).then((job) => [job?.status, job?.error]), ["failed", "the document was deleted before this upload was indexed"]);
    assert.deepEqual((await storage.listDocuments("tenant/acme")).map((document) => document.source), ["other.md"]);
  });

  it("keeps its own running job through heartbeats, and puts a job cut short by a stop back without counting the attempt", async () => {
    // Big enough that preparing it outlasts several heartbeats and the stop below.
    const big = Buffer.from(Array.from({ length: 40000 }, (_, index) => `Paragraph ${String(index)} about travel expenses and receipts.`).join("\n\n"));
    const fresh = () => ({ collection: "tenant/a", source: "big.md", format: "markdown", contentHash: `h-${String(Date.now())}`, content: big });
    const first = await startQueue(storage, { heartbeatMs: 10 });
    const kept = await first.submit(fresh());
    await first.finished("tenant/a", kept.id);
    assert.deepEqual(await storage.getJob("tenant/a", kept.id).then((job) => [job?.status, job?.attempts]), ["succeeded", 1]);

    const cut = await first.submit(fresh());
    for (let polls = 0; (await storage.getJob("tenant/a", cut.id))?.status !== "running"; polls += 1) {
      assert.ok(polls < 500, "the job never started");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await first.stop();
    assert.deepEqual(await storage.getJob("tenant/a", cut.id).then((job) => [job?.status, job?.attempts]), ["queued", 0]);
    const second = await startQueue(storage);
    await second.finished("tenant/a", cut.id);
    assert.deepEqual(await storage.getJob("tenant/a", cut.id).then((job) => [job?.status, job?.attempts]), ["succeeded", 1]);
  });
});
