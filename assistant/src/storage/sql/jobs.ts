/**
 * Ingestion-queue SQL both stores run as written, with `?` for each parameter (Postgres numbers
 * them, see postgres/numbered.ts). Job columns are aliased to the contract's field names, so a row
 * is already an IngestionJob.
 */
const JOB_COLUMNS = `id, collection, source, title, format, content_hash AS "contentHash", bytes, status, attempts, error, outcome,
  document_id AS "documentId", chunk_count AS "chunkCount", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * A queued job `j` that may run once due: an older unfinished job for the same document goes first,
 * so a retry can never overwrite newer content, and a collection (a tenant) has one job running at a
 * time, so one tenant's slow documents hold one worker, never all.
 */
const UNBLOCKED_QUEUED_JOB = `j.status = 'queued' AND NOT EXISTS (
  SELECT 1 FROM ingestion_jobs o WHERE o.collection = j.collection AND o.source = j.source
    AND o.status IN ('queued', 'running') AND o.seq < j.seq)
  AND NOT EXISTS (SELECT 1 FROM ingestion_jobs r WHERE r.collection = j.collection AND r.status = 'running')`;

/**
 * When collection `c` was last served: its latest job that started or ended. One index seek per
 * status (ingestion_jobs_turns), so the cost does not grow with the collection's history.
 */
const LAST_SERVED = (c: string) => `COALESCE((SELECT max(t.at) FROM (
  SELECT max(s.updated_at) AS at FROM ingestion_jobs s WHERE s.collection = ${c} AND s.status = 'running'
  UNION ALL SELECT max(s.updated_at) FROM ingestion_jobs s WHERE s.collection = ${c} AND s.status = 'succeeded'
  UNION ALL SELECT max(s.updated_at) FROM ingestion_jobs s WHERE s.collection = ${c} AND s.status = 'failed') t), '')`;

export const jobSql = {
  columns: JOB_COLUMNS,
  /** Binds the job's fields, then its run_after, created_at and updated_at. */
  insert: `INSERT INTO ingestion_jobs (id, collection, source, title, format, content_hash, bytes, content, status, run_after, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
  /**
   * The job whose turn it is among those due by the time bound: each collection takes its turn, the
   * one served longest ago first, then its oldest job. FIFO alone would let a tenant that uploads a
   * hundred documents make every other tenant wait for all of them. The turn is weighed once per
   * collection, not once per queued job: per job, a thousand uploads took half a minute to claim. The
   * outer query reads the jobs table itself, so that Postgres can lock the row it picks (FOR UPDATE
   * SKIP LOCKED, postgres/jobs.ts) and recheck that it is still queued.
   */
  next: `SELECT c.seq FROM ingestion_jobs c WHERE c.status = 'queued'
    AND c.seq IN (SELECT min(j.seq) FROM ingestion_jobs j WHERE j.run_after <= ? AND ${UNBLOCKED_QUEUED_JOB} GROUP BY j.collection)
    ORDER BY ${LAST_SERVED("c.collection")}, c.seq LIMIT 1`,
  /** Starts the job of sequence number `seq` (a parameter, or a subquery that picks it) and returns it with its upload. */
  start: (seq: string) => `UPDATE ingestion_jobs SET status = 'running', attempts = attempts + 1, updated_at = ? WHERE seq = ${seq}
    RETURNING ${JOB_COLUMNS}, content`,
  complete: `UPDATE ingestion_jobs SET status = 'succeeded', content = NULL, error = NULL, outcome = ?, document_id = ?, chunk_count = ?, updated_at = ?
    WHERE id = ? AND status = 'running'`,
  // Only a running job ends this way: one a delete cancelled meanwhile stays failed.
  retry: "UPDATE ingestion_jobs SET status = 'queued', error = ?, run_after = ?, updated_at = ? WHERE id = ? AND status = 'running'",
  fail: "UPDATE ingestion_jobs SET status = 'failed', content = NULL, error = ?, updated_at = ? WHERE id = ? AND status = 'running'",
  status: "SELECT status FROM ingestion_jobs WHERE id = ?",
  get: `SELECT ${JOB_COLUMNS} FROM ingestion_jobs WHERE collection = ? AND id = ?`,
  list: `SELECT ${JOB_COLUMNS} FROM ingestion_jobs WHERE collection = ? ORDER BY seq DESC LIMIT ?`,
  release: "UPDATE ingestion_jobs SET status = 'queued', attempts = attempts - 1, updated_at = ? WHERE id = ? AND status = 'running'",
  touch: "UPDATE ingestion_jobs SET updated_at = ? WHERE id = ? AND status = 'running'",
  cancelUnfinished: `UPDATE ingestion_jobs SET status = 'failed', content = NULL, error = ?, updated_at = ?
    WHERE collection = ? AND source = ? AND status IN ('queued', 'running')`,
  /**
   * The job that makes a re-sync leave one content of a document be (IngestionJobStore.jobFor): an
   * unfinished one first, else one that failed after running since the time bound. `unfinished` is
   * a boolean in Postgres and 0/1 in SQLite.
   */
  jobFor: `SELECT id, status IN ('queued', 'running') AS unfinished FROM ingestion_jobs WHERE collection = ? AND source = ? AND content_hash = ?
    AND (status IN ('queued', 'running') OR (status = 'failed' AND attempts > 0 AND updated_at >= ?)) ORDER BY unfinished DESC, seq DESC LIMIT 1`,
  nextTime: `SELECT min(j.run_after) AS at FROM ingestion_jobs j WHERE ${UNBLOCKED_QUEUED_JOB}`,
  prune: "DELETE FROM ingestion_jobs WHERE status IN ('succeeded', 'failed') AND updated_at < ?",
} as const;

/**
 * What a job left running by a stopped process is set to, in both stores: failed once it has used
 * its attempts, else queued again; either way with the reason. `maxAttempts` is the dialect's
 * placeholder for that number.
 */
export const ABANDONED_JOB_OUTCOME = (maxAttempts: string) => `status = CASE WHEN attempts >= ${maxAttempts} THEN 'failed' ELSE 'queued' END,
  content = CASE WHEN attempts >= ${maxAttempts} THEN NULL ELSE content END,
  error = CASE WHEN attempts >= ${maxAttempts}
    THEN 'the process stopped during each of its ' || attempts || ' attempts (knowledge.maxAttempts is ' || ${maxAttempts} || '): the document may be what stops it'
    ELSE 'attempt ' || attempts || ' was cut short: the process stopped while it ran' END`;

export const countAbandoned = (outcomes: readonly { status: string }[]) => ({
  requeued: outcomes.filter(({ status }) => status === "queued").length,
  failed: outcomes.filter(({ status }) => status === "failed").length,
});
