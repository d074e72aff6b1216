/**
 * Column lists both stores select, aliased to the contract's field names, so a row is already a
 * KnowledgeDocument or an IngestionJob (both SQL dialects take the same double-quoted aliases).
 */
export const DOCUMENT_COLUMNS = `id, collection, source, title, content_hash AS "contentHash", chunk_count AS "chunkCount", version, updated_at AS "updatedAt"`;

export const JOB_COLUMNS = `id, collection, source, title, format, content_hash AS "contentHash", bytes, status, attempts, error, outcome,
  document_id AS "documentId", chunk_count AS "chunkCount", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * A queued job `j` that may run once due: an older unfinished job for the same document goes first,
 * so a retry can never overwrite newer content, and a collection (a tenant) has one job running at a
 * time, so one tenant's slow documents hold one worker, never all. Both dialects read it the same.
 */
export const UNBLOCKED_QUEUED_JOB = `j.status = 'queued' AND NOT EXISTS (
  SELECT 1 FROM ingestion_jobs o WHERE o.collection = j.collection AND o.source = j.source
    AND o.status IN ('queued', 'running') AND o.seq < j.seq)
  AND NOT EXISTS (SELECT 1 FROM ingestion_jobs r WHERE r.collection = j.collection AND r.status = 'running')`;

/**
 * Whose job runs next: each collection takes its turn, the one served longest ago (by when its last
 * job started or ended) first, then its oldest job. FIFO alone would let a tenant that uploads a
 * hundred documents make every other tenant wait for all of them.
 */
export const TENANT_TURN_ORDER = `COALESCE((SELECT max(s.updated_at) FROM ingestion_jobs s WHERE s.collection = j.collection AND s.status <> 'queued'), ''), j.seq`;

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

/**
 * The job that makes a re-sync leave one content of a document be (KnowledgeStore.jobFor): an
 * unfinished one first, else one that failed after running since a time given as `placeholder`.
 * `unfinished` is a boolean in Postgres and 0/1 in SQLite.
 */
export const JOB_FOR_CONTENT = {
  columns: `id, status IN ('queued', 'running') AS unfinished`,
  status: (placeholder: string) => `(status IN ('queued', 'running') OR (status = 'failed' AND attempts > 0 AND updated_at >= ${placeholder}))`,
  order: "ORDER BY unfinished DESC, seq DESC LIMIT 1",
};
