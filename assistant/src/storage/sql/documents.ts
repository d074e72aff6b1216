/**
 * Knowledge SQL both stores run as written, with `?` for each parameter (Postgres numbers them, see
 * postgres/numbered.ts). Document columns are aliased to the contract's field names, so a row is
 * already a KnowledgeDocument (both dialects take the same double-quoted aliases).
 */
const DOCUMENT_COLUMNS = `id, collection, source, title, content_hash AS "contentHash", chunk_count AS "chunkCount", version, updated_at AS "updatedAt"`;

export const documentSql = {
  columns: DOCUMENT_COLUMNS,
  find: `SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE collection = ? AND source = ?`,
  insert: "INSERT INTO documents (id, collection, source, title, content_hash, chunk_count, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  /** New content for a document: it keeps its id, and its version counts up. */
  replace: "UPDATE documents SET title = ?, content_hash = ?, chunk_count = ?, version = version + 1, updated_at = ? WHERE id = ?",
  deleteChunks: "DELETE FROM chunks WHERE document_id = ?",
} as const;
