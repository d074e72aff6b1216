import { randomUUID } from "node:crypto";
import type { Database } from "better-sqlite3";
import { ABANDONED_JOB_OUTCOME, countAbandoned, jobSql } from "../sql/jobs.js";
import type { ClaimedJob, DocumentInput, IngestionJob, IngestionJobStore } from "../types.js";
import type { SqliteKnowledge } from "./knowledge.js";
import { settle } from "./settle.js";

/** The ingestion queue in the embedded database; a job's document is written by `documents`. */
export function sqliteJobs(db: Database, documents: Pick<SqliteKnowledge, "write" | "committed">): IngestionJobStore {
  const statements = {
    insertJob: db.prepare(jobSql.insert),
    // Tenants take turns; an older unfinished job for the same document goes first (sql/jobs.ts).
    nextJob: db.prepare<[string], { seq: number }>(jobSql.next),
    startJob: db.prepare<[string, number], ClaimedJob>(jobSql.start("?")),
    completeJob: db.prepare(jobSql.complete),
    retryJob: db.prepare(jobSql.retry),
    failJob: db.prepare(jobSql.fail),
    jobStatus: db.prepare<[string], string>(jobSql.status).pluck(),
    getJob: db.prepare<[string, string], IngestionJob>(jobSql.get),
    listJobs: db.prepare<[string, number], IngestionJob>(jobSql.list),
    requeueRunning: db.prepare<{ now: string; claimed: string; maxAttempts: number }, { status: string }>(
      `UPDATE ingestion_jobs SET ${ABANDONED_JOB_OUTCOME("CAST(@maxAttempts AS INTEGER)")}, updated_at = @now
       WHERE status = 'running' AND id NOT IN (SELECT value FROM json_each(@claimed)) RETURNING status`,
    ),
    releaseJob: db.prepare(jobSql.release),
    touchJob: db.prepare(jobSql.touch),
    cancelUnfinished: db.prepare(jobSql.cancelUnfinished),
    jobFor: db.prepare<[string, string, string, string], { id: string; unfinished: number }>(jobSql.jobFor),
    nextJobTime: db.prepare<[], { at: string | null }>(jobSql.nextTime),
    pruneJobs: db.prepare(jobSql.prune),
  };

  // The file belongs to this process alone: a running job it did not claim was left by an earlier one.
  const claimed = new Set<string>();
  const claimJob = db.transaction((nowIso: string): ClaimedJob | undefined => {
    const next = statements.nextJob.get(nowIso);
    const job = next === undefined ? undefined : statements.startJob.get(nowIso, next.seq);
    if (job !== undefined) claimed.add(job.id);
    return job;
  });
  const writeJobDocument = db.transaction((jobId: string, collection: string, document: DocumentInput) =>
    statements.jobStatus.get(jobId) === "running" ? documents.write(collection, document) : undefined,
  );

  return {
    enqueueJob(job) {
      return settle(() => {
        const now = new Date().toISOString();
        const id = randomUUID();
        statements.insertJob.run(id, job.collection, job.source, job.title ?? null, job.format, job.contentHash, job.content.length, job.content, now, now, now);
        const row = statements.getJob.get(job.collection, id);
        if (row === undefined) throw new Error(`ingestion job ${id} vanished after insert`);
        return row;
      });
    },
    claimJob(nowIso) {
      return settle(() => claimJob(nowIso));
    },
    storeJobDocument(jobId, collection, document) {
      return settle(() => {
        const written = writeJobDocument(jobId, collection, document);
        return written === undefined ? undefined : documents.committed(collection, written);
      });
    },
    completeJob(id, { outcome, documentId, chunkCount }) {
      return settle(() => {
        statements.completeJob.run(outcome, documentId, chunkCount, new Date().toISOString(), id);
        claimed.delete(id);
      });
    },
    failJob(id, error, retryAtIso) {
      return settle(() => {
        const now = new Date().toISOString();
        if (retryAtIso === undefined) statements.failJob.run(error, now, id);
        else statements.retryJob.run(error, retryAtIso, now, id);
        claimed.delete(id);
      });
    },
    getJob(collection, id) {
      return settle(() => statements.getJob.get(collection, id));
    },
    listJobs(collection, limit) {
      return settle(() => statements.listJobs.all(collection, limit));
    },
    requeueRunningJobs(maxAttempts) {
      return settle(() => countAbandoned(statements.requeueRunning.all({ now: new Date().toISOString(), claimed: JSON.stringify([...claimed]), maxAttempts })));
    },
    releaseJob(id) {
      return settle(() => {
        statements.releaseJob.run(new Date().toISOString(), id);
        claimed.delete(id);
      });
    },
    touchJob(id) {
      return settle(() => {
        statements.touchJob.run(new Date().toISOString(), id);
      });
    },
    cancelUnfinishedJobs(collection, source, reason) {
      return settle(() => statements.cancelUnfinished.run(reason, new Date().toISOString(), collection, source).changes);
    },
    jobFor(collection, source, contentHash, failedSinceIso) {
      return settle(() => {
        const row = statements.jobFor.get(collection, source, contentHash, failedSinceIso);
        return row && { id: row.id, unfinished: row.unfinished === 1 };
      });
    },
    nextJobTime() {
      return settle(() => statements.nextJobTime.get()?.at ?? undefined);
    },
    pruneJobs(endedBeforeIso) {
      return settle(() => statements.pruneJobs.run(endedBeforeIso).changes);
    },
  };
}
