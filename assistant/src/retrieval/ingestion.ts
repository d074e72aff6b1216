import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.js";
import type { ClaimedJob, IngestionJob, IngestionJobStore, JobOutcome, KnowledgeStore, NewIngestionJob } from "../storage/types.js";
import { DOCUMENT_FORMATS, PREPARATION_VERSION, UnreadableDocumentError, type DocumentFormat } from "./document-format.js";
import type { Embedder } from "./embeddings.js";
import { DocumentPreparer, type PreparerSettings } from "./preparer.js";

export interface IngestionSettings extends PreparerSettings {
  chunkChars: number;
  chunkOverlapChars: number;
  /** Jobs run at once, each in its own preparing process; a collection (a tenant) has one of them at a time. */
  workers: number;
  /** Limits of the preparing process for one document. */
  prepareTimeoutMs: number;
  prepareMemoryMb: number;
  /** Attempts per job before it fails for good; an unreadable document fails at once. */
  maxAttempts: number;
  /** The first retry waits this long, each further one twice as long as the one before. */
  retryBaseMs: number;
  /** Jobs that ended longer ago than this are deleted (checked at start and every hour). */
  jobRetentionMs: number;
  /**
   * How often the running job is touched (so other replicas never take it for abandoned) and jobs a
   * stopped replica abandoned are looked for; default one minute.
   */
  heartbeatMs?: number;
}

const isFormat = (format: string): format is DocumentFormat => (DOCUMENT_FORMATS as readonly string[]).includes(format);
const logged = (job: ClaimedJob) => ({ jobId: job.id, format: job.format, bytes: job.bytes, attempt: job.attempts });

/** A document's content that failed to ingest is tried again by a sync after this long. */
const RETRY_FAILED_AFTER_MS = 3600000;

/**
 * Works through the durable ingestion queue with `workers` jobs at a time, tenants taking turns and
 * each tenant one job at a time (the store's claim decides), so one tenant's slow document cannot
 * hold up the others': a preparing process parses, masks, chunks and segments, then one transaction
 * stores the document's new chunks in place of the old. A stop puts the jobs it cuts short back on
 * the queue; jobs a crashed process left running go back at the next start, or (on a shared store)
 * once their replica has stopped touching them. A failed attempt is retried with exponential backoff.
 */
export class IngestionQueue {
  private stopped = false;
  /** Aborts a request to the embeddings endpoint when the service stops. */
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];
  /**
   * Counted up whenever work may have become runnable (a submit, a job's end that lets its tenant's
   * next one run, jobs found abandoned), so a worker looking for work then does not miss it.
   */
  private changes = 0;
  /** Wakes the workers that wait for work. */
  private readonly wakers = new Set<() => void>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private pruning: NodeJS.Timeout | undefined;
  private requeueing: NodeJS.Timeout | undefined;
  private readonly preparers: DocumentPreparer[];
  /** The settings that shape the stored chunks: content indexed under other settings counts as changed. */
  private readonly fingerprint: string;
  private readonly heartbeatMs: number;

  constructor(
    private readonly store: KnowledgeStore & IngestionJobStore,
    private readonly settings: IngestionSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly embedder?: Embedder,
  ) {
    this.preparers = Array.from(
      { length: settings.workers },
      () =>
        new DocumentPreparer({ limits: settings.limits, ...(settings.mask === undefined ? {} : { mask: settings.mask }) }, {
          timeoutMs: settings.prepareTimeoutMs,
          maxMemoryMb: settings.prepareMemoryMb,
        }),
    );
    this.heartbeatMs = settings.heartbeatMs ?? 60000;
    this.fingerprint = JSON.stringify({
      preparation: PREPARATION_VERSION,
      chunkChars: settings.chunkChars,
      chunkOverlapChars: settings.chunkOverlapChars,
      mask: settings.mask ?? null,
      embeddings: embedder?.fingerprint ?? null,
    });
  }

  /**
   * The de-duplication key of a document's content: the same bytes, read as the same format under the
   * same title, indexed the same way. A corrected format or title is a change like any other.
   */
  contentHash(content: Uint8Array, reading: { format: DocumentFormat; title?: string }): string {
    return createHash("sha256")
      .update(this.fingerprint)
      .update("\0")
      .update(JSON.stringify([reading.format, reading.title ?? null]))
      .update("\0")
      .update(content)
      .digest("hex");
  }

  async start(): Promise<void> {
    await this.requeueAbandoned();
    await this.prune();
    this.pruning = setInterval(() => void this.prune(), 3600000);
    this.pruning.unref();
    this.requeueing = setInterval(() => void this.requeueAbandoned(), this.heartbeatMs);
    this.requeueing.unref();
    this.loops = this.preparers.map((preparer) => this.work(preparer));
  }

  /**
   * Whether this content of a document is on its way already, or failed within the last hour: a
   * re-sync then leaves it be rather than store the whole file in a new job and parse it again at
   * every sync (a corrupt PDF in a mounted ConfigMap).
   */
  /** The job that already handles this content: one on its way, or one that failed within the retry period. */
  handling(collection: string, source: string, contentHash: string): Promise<{ id: string; unfinished: boolean } | undefined> {
    return this.store.jobFor(collection, source, contentHash, new Date(Date.now() - RETRY_FAILED_AFTER_MS).toISOString());
  }

  async submit(job: NewIngestionJob): Promise<IngestionJob> {
    const queued = await this.store.enqueueJob(job);
    this.wakeAll();
    return queued;
  }

  /**
   * Resolves once the job has succeeded or failed for good. Another replica sharing the store may be
   * the one that runs it, so the store is asked again every `pollMs` as well.
   */
  async finished(collection: string, id: string, pollMs = 500): Promise<void> {
    for (;;) {
      let wake: () => void = () => undefined;
      const done = new Promise<void>((resolve) => {
        wake = resolve;
        this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]);
      });
      const job = await this.store.getJob(collection, id);
      if (job === undefined || job.status === "succeeded" || job.status === "failed") {
        this.settle(id);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, pollMs)))]);
      clearTimeout(timer);
      // Each round waits with a new resolver: the old one goes, so a long wait holds one, not thousands.
      const left = (this.waiters.get(id) ?? []).filter((resolve) => resolve !== wake);
      if (left.length > 0) this.waiters.set(id, left);
      else this.waiters.delete(id);
    }
  }

  /** Stops taking jobs and waits for the current one; a job cut short by the stop runs again at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruning);
    clearInterval(this.requeueing);
    this.stopping.abort();
    this.wakeAll();
    // Closing the preparers first ends a long parse at once instead of waiting for it.
    await Promise.all(this.preparers.map((preparer) => preparer.close()));
    await Promise.all(this.loops);
  }

  private wakeAll(): void {
    this.changes += 1;
    for (const wake of this.wakers) wake();
  }

  private async work(preparer: DocumentPreparer): Promise<void> {
    while (!this.stopped) {
      const changes = this.changes;
      let writeMs = 0;
      try {
        const job = await this.store.claimJob(new Date().toISOString());
        if (job === undefined) await this.idle(changes);
        else {
          writeMs = await this.run(job, preparer);
          // Its tenant's next job may run now, on any worker.
          this.wakeAll();
        }
      } catch (error) {
        this.logger.error({ err: error }, "ingestion queue failed, retrying shortly");
        await new Promise((resolve) => setTimeout(resolve, this.settings.retryBaseMs));
      }
      // The store write runs on the event loop: pausing as long as it took leaves chat at least half of it.
      await new Promise((resolve) => setTimeout(resolve, writeMs));
    }
  }

  /**
   * Waits for a submit, the stop, a job found abandoned, a job's end, or the time the soonest runnable
   * job is due. A job waiting behind an older one of its document, or behind its tenant's running job,
   * is not runnable: the end of that job wakes the workers.
   */
  private async idle(changes: number): Promise<void> {
    const next = await this.store.nextJobTime();
    if (this.changes !== changes || this.stopped) return;
    let wake: () => void = () => undefined;
    await new Promise<void>((resolve) => {
      const timer = next === undefined ? undefined : setTimeout(resolve, Math.max(0, Date.parse(next) - Date.now()));
      timer?.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.wakers.add(wake);
    });
    this.wakers.delete(wake);
  }

  /** Runs one attempt of a job; resolves with how long its store write held the event loop, in ms. */
  private async run(job: ClaimedJob, preparer: DocumentPreparer): Promise<number> {
    const started = Date.now();
    const heartbeat = setInterval(() => {
      this.store.touchJob(job.id).catch((error: unknown) => {
        this.logger.warn({ ...logged(job), err: error }, "marking the running ingestion job as alive failed");
      });
    }, this.heartbeatMs);
    heartbeat.unref();
    try {
      if (!isFormat(job.format)) throw new UnreadableDocumentError(`unknown format ${job.format}`);
      const current = await this.store.findDocument(job.collection, job.source);
      if (current?.contentHash === job.contentHash) {
        await this.finish(job, started, { outcome: "unchanged", documentId: current.id, chunkCount: current.chunkCount });
        return 0;
      }
      const prepared = await preparer.prepare({
        format: job.format,
        content: job.content,
        source: job.source,
        ...(job.title === null ? {} : { title: job.title }),
        chunkChars: this.settings.chunkChars,
        chunkOverlapChars: this.settings.chunkOverlapChars,
      });
      const embeddings = await this.embedder?.embed(
        prepared.chunks.map((chunk) => `${chunk.heading}\n${chunk.text}`),
        this.stopping.signal,
      );
      const writing = performance.now();
      // The document may have been deleted while this job ran: the delete failed the job, and wins.
      const stored = await this.store.storeJobDocument(job.id, job.collection, {
        source: job.source,
        title: prepared.title,
        contentHash: job.contentHash,
        chunks: prepared.chunks.map((chunk, index) => {
          const embedding = embeddings?.[index];
          return embedding === undefined ? chunk : { ...chunk, embedding };
        }),
      });
      if (stored === undefined) {
        this.logger.info({ ...logged(job) }, "ingestion job ended elsewhere while it ran (its document was deleted); nothing stored");
        this.settle(job.id);
        return 0;
      }
      const { id, changed } = stored;
      const writeMs = performance.now() - writing;
      await this.finish(job, started, { outcome: changed ? "indexed" : "unchanged", documentId: id, chunkCount: prepared.chunks.length });
      return writeMs;
    } catch (error) {
      if (this.stopped) {
        // Cut short by the stop: not a failed attempt, and the next start (or another replica) runs it.
        await this.store.releaseJob(job.id).catch((releaseError: unknown) => {
          this.logger.warn({ ...logged(job), err: releaseError }, "putting the interrupted ingestion job back on the queue failed");
        });
        return 0;
      }
      const message = error instanceof Error ? error.message : String(error);
      const retry = !(error instanceof UnreadableDocumentError) && job.attempts < this.settings.maxAttempts;
      const retryAt = retry ? new Date(Date.now() + this.settings.retryBaseMs * 2 ** (job.attempts - 1)).toISOString() : undefined;
      await this.store.failJob(job.id, message, retryAt);
      this.metrics.ingestionJobs.inc({ outcome: retry ? "retried" : "failed" });
      this.logger.warn({ ...logged(job), error: message, retryAt }, retry ? "document ingestion failed, will retry" : "document ingestion failed");
      if (!retry) this.settle(job.id);
      return 0;
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async requeueAbandoned(): Promise<void> {
    try {
      const { requeued, failed } = await this.store.requeueRunningJobs(this.settings.maxAttempts);
      if (failed > 0) {
        this.metrics.ingestionJobs.inc({ outcome: "failed" }, failed);
        this.logger.warn({ failed, maxAttempts: this.settings.maxAttempts }, "ingestion jobs a stopped process left running have used their attempts and failed");
      }
      if (requeued > 0) {
        this.logger.info({ requeued }, "ingestion jobs a stopped process left running are queued again");
        this.wakeAll();
      }
    } catch (error) {
      this.logger.warn({ err: error }, "looking for abandoned ingestion jobs failed, trying again later");
    }
  }

  private async finish(job: ClaimedJob, started: number, result: { outcome: JobOutcome; documentId: string; chunkCount: number }): Promise<void> {
    await this.store.completeJob(job.id, result);
    this.metrics.ingestionJobs.inc({ outcome: result.outcome });
    this.metrics.ingestionDuration.observe({ format: job.format }, (Date.now() - started) / 1000);
    this.logger.info({ ...logged(job), ...result, ms: Date.now() - started }, "document ingested");
    this.settle(job.id);
  }

  private async prune(): Promise<void> {
    try {
      const pruned = await this.store.pruneJobs(new Date(Date.now() - this.settings.jobRetentionMs).toISOString());
      if (pruned > 0) this.logger.info({ pruned }, "ended ingestion jobs past their retention deleted");
    } catch (error) {
      this.logger.warn({ err: error }, "pruning ended ingestion jobs failed, trying again later");
    }
  }

  private settle(id: string): void {
    for (const resolve of this.waiters.get(id) ?? []) resolve();
    this.waiters.delete(id);
  }
}
