/**
 * Column lists both stores select, aliased to the contract's field names, so a row is already a
 * KnowledgeDocument or an IngestionJob (both SQL dialects take the same double-quoted aliases).
 */
export const DOCUMENT_COLUMNS = `id, collection, source, title, content_hash AS "contentHash", chunk_count AS "chunkCount", version, updated_at AS "updatedAt"`;

export const JOB_COLUMNS = `id, collection, source, title, format, content_hash AS "contentHash", bytes, status, attempts, error, outcome,
  document_id AS "documentId", chunk_count AS "chunkCount", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * A queued job `j` that may run once due: an older unfinished job for the same document goes first,
 * so a retry can never overwrite newer content. Both dialects read it the same.
 */
export const UNBLOCKED_QUEUED_JOB = `j.status = 'queued' AND NOT EXISTS (
  SELECT 1 FROM ingestion_jobs o WHERE o.collection = j.collection AND o.source = j.source
    AND o.status IN ('queued', 'running') AND o.seq < j.seq)`;

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
