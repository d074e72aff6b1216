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
