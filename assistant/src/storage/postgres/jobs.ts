import { randomUUID } from "node:crypto";
import { ABANDONED_JOB_OUTCOME, countAbandoned, jobSql } from "../sql/jobs.js";
import type { ClaimedJob, IngestionJob, IngestionJobStore } from "../types.js";
import type { PostgresDatabase } from "./database.js";
import { writeDocument } from "./knowledge.js";
import { numbered } from "./numbered.js";
import type { PostgresVectors } from "./vectors.js";

const sql = {
  insert: numbered(`${jobSql.insert} RETURNING ${jobSql.columns}`),
  // Tenants take turns; an older unfinished job for the same document goes first (sql/jobs.ts).
  // Replicas claim at once: each skips the rows another has locked.
  claim: numbered(jobSql.start(`(${jobSql.next} FOR UPDATE SKIP LOCKED)`)),
  complete: numbered(jobSql.complete),
  retry: numbered(jobSql.retry),
  fail: numbered(jobSql.fail),
  // Locked until the commit: a delete's cancellation of the job waits, or is seen here first.
  lockStatus: numbered(`${jobSql.status} FOR UPDATE`),
  get: numbered(jobSql.get),
  list: numbered(jobSql.list),
  release: numbered(jobSql.release),
  touch: numbered(jobSql.touch),
  cancelUnfinished: numbered(jobSql.cancelUnfinished),
  jobFor: numbered(jobSql.jobFor),
  nextTime: jobSql.nextTime,
  prune: numbered(jobSql.prune),
};

/**
 * The ingestion queue in Postgres, shared by every replica. A running job untouched for
 * `staleJobMs` belongs to a replica that stopped.
 */
export function postgresJobs({ pool, rows, transaction }: PostgresDatabase, vectors: PostgresVectors, staleJobMs: number): IngestionJobStore {
  return {
    async enqueueJob(job) {
      const now = new Date().toISOString();
      const [row] = await rows<IngestionJob>(sql.insert, [
        randomUUID(),
        job.collection,
        job.source,
        job.title ?? null,
        job.format,
        job.contentHash,
        job.content.length,
        job.content,
        now,
        now,
        now,
      ]);
      if (row === undefined) throw new Error("the ingestion job was not stored");
      return row;
    },
    async storeJobDocument(jobId, collection, document) {
      await vectors.ensureIndexes(document);
      return transaction(async (client) => {
        const [job] = (await client.query<{ status: string }>(sql.lockStatus, [jobId])).rows;
        return job?.status === "running" ? writeDocument(client, collection, document) : undefined;
      });
    },
    async claimJob(nowIso) {
      const [row] = await rows<ClaimedJob>(sql.claim, [nowIso, nowIso]);
      return row;
    },
    async completeJob(id, { outcome, documentId, chunkCount }) {
      await pool.query(sql.complete, [outcome, documentId, chunkCount, new Date().toISOString(), id]);
    },
    async failJob(id, error, retryAtIso) {
      const now = new Date().toISOString();
      if (retryAtIso === undefined) await pool.query(sql.fail, [error, now, id]);
      else await pool.query(sql.retry, [error, retryAtIso, now, id]);
    },
    async getJob(collection, id) {
      const [row] = await rows<IngestionJob>(sql.get, [collection, id]);
      return row;
    },
    async listJobs(collection, limit) {
      return rows<IngestionJob>(sql.list, [collection, limit]);
    },
    async requeueRunningJobs(maxAttempts) {
      // Other replicas may be running jobs right now (and touch them): only those left untouched for long are taken back.
      const now = Date.now();
      return countAbandoned(
        await rows<{ status: string }>(
          `UPDATE ingestion_jobs SET ${ABANDONED_JOB_OUTCOME("$3::integer")}, updated_at = $1 WHERE status = 'running' AND updated_at < $2 RETURNING status`,
          [new Date(now).toISOString(), new Date(now - staleJobMs).toISOString(), maxAttempts],
        ),
      );
    },
    async jobFor(collection, source, contentHash, failedSinceIso) {
      const [row] = await rows<{ id: string; unfinished: boolean }>(sql.jobFor, [collection, source, contentHash, failedSinceIso]);
      return row && { id: row.id, unfinished: row.unfinished };
    },
    async nextJobTime() {
      return (await rows<{ at: string | null }>(sql.nextTime))[0]?.at ?? undefined;
    },
    async releaseJob(id) {
      await pool.query(sql.release, [new Date().toISOString(), id]);
    },
    async touchJob(id) {
      await pool.query(sql.touch, [new Date().toISOString(), id]);
    },
    async cancelUnfinishedJobs(collection, source, reason) {
      return (await pool.query(sql.cancelUnfinished, [reason, new Date().toISOString(), collection, source])).rowCount ?? 0;
    },
    async pruneJobs(endedBeforeIso) {
      return (await pool.query(sql.prune, [endedBeforeIso])).rowCount ?? 0;
    },
  };
}
