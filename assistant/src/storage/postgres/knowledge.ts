import { randomUUID } from "node:crypto";
import type pg from "pg";
import { decodeCursor, pageOf } from "../cursor.js";
import { documentSql } from "../sql/documents.js";
import type { ChunkHit, DocumentInput, KnowledgeDocument, KnowledgeStore } from "../types.js";
import type { PostgresDatabase } from "./database.js";
import { numbered } from "./numbered.js";
import { embeddingParameter, HIT_COLUMNS, type PostgresVectors } from "./vectors.js";

const sql = {
  find: numbered(documentSql.find),
  insert: numbered(documentSql.insert),
  replace: numbered(documentSql.replace),
  deleteChunks: numbered(documentSql.deleteChunks),
};

/** The OR of every term, each as plain words (never query syntax), stemmed as the index is. */
const ANY_TERM = `(SELECT string_agg('(' || plainto_tsquery('english', t)::text || ')', ' | ')::tsquery
  FROM unnest($1::text[]) AS t WHERE numnode(plainto_tsquery('english', t)) > 0)`;

/** Inserts or replaces a document within a transaction (see KnowledgeStore.putDocument). */
export async function writeDocument(client: pg.PoolClient, collection: string, document: DocumentInput): Promise<{ id: string; changed: boolean }> {
  const [existing] = (
    await client.query<{ id: string; contentHash: string }>(
      `SELECT id, content_hash AS "contentHash" FROM documents WHERE collection = $1 AND source = $2 FOR UPDATE`,
      [collection, document.source],
    )
  ).rows;
  if (existing?.contentHash === document.contentHash) return { id: existing.id, changed: false };
  const now = new Date().toISOString();
  const id = existing?.id ?? randomUUID();
  if (existing === undefined) {
    await client.query(sql.insert, [id, collection, document.source, document.title, document.contentHash, document.chunks.length, now]);
  } else {
    await client.query(sql.deleteChunks, [id]);
    await client.query(sql.replace, [document.title, document.contentHash, document.chunks.length, now, id]);
  }
  await client.query(
    `INSERT INTO chunks (document_id, collection, ordinal, heading, text, terms, embedding)
     SELECT $1, $2, ordinal, heading, text, to_tsvector('english', terms), embedding::vector
     FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(ordinal, heading, text, terms, embedding)`,
    [
      id,
      collection,
      document.chunks.map((chunk) => chunk.ordinal),
      document.chunks.map((chunk) => chunk.heading),
      document.chunks.map((chunk) => chunk.text),
      document.chunks.map((chunk) => chunk.terms),
      document.chunks.map(embeddingParameter),
    ],
  );
  return { id, changed: true };
}

/**
 * Documents and their chunks in Postgres: full-text search on the service's own segmentation
 * (stemmed for English by the `terms` tsvector), and the chunks' embeddings (vectors.ts).
 */
export function postgresKnowledge({ pool, rows, transaction }: PostgresDatabase, vectors: PostgresVectors): KnowledgeStore {
  return {
    async putDocument(collection, document) {
      await vectors.ensureIndexes(document);
      return transaction((client) => writeDocument(client, collection, document));
    },
    async listDocuments(collection) {
      return rows<KnowledgeDocument>(`SELECT ${documentSql.columns} FROM documents WHERE collection = $1 ORDER BY source COLLATE "C"`, [collection]);
    },
    async pageDocuments(collections, limit, cursor) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      // Bytewise order ("C"), as SQLite's, so a page boundary means the same in both stores.
      const found = await rows<KnowledgeDocument>(
        `SELECT ${documentSql.columns} FROM documents WHERE collection = ANY($1)
         AND ($2::text IS NULL OR (source COLLATE "C", id) > ($2::text COLLATE "C", $3::text)) ORDER BY source COLLATE "C", id LIMIT $4`,
        [collections, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      return pageOf(found, limit, (document) => [document.source, document.id]);
    },
    async getDocument(collections, id) {
      const [row] = await rows<KnowledgeDocument>(`SELECT ${documentSql.columns} FROM documents WHERE id = $1 AND collection = ANY($2)`, [id, collections]);
      return row;
    },
    async findDocument(collection, source) {
      const [row] = await rows<KnowledgeDocument>(sql.find, [collection, source]);
      return row;
    },
    async countDocuments(collections) {
      return (await rows<{ n: number }>("SELECT count(*)::int AS n FROM documents WHERE collection = ANY($1)", [collections]))[0]?.n ?? 0;
    },
    async deleteDocument(collection, id) {
      return ((await pool.query("DELETE FROM documents WHERE collection = $1 AND id = $2", [collection, id])).rowCount ?? 0) > 0;
    },
    async searchChunks(collections, terms, limit) {
      if (terms.length === 0) return [];
      // Ranked on the chunks alone; only the best are joined with their documents.
      return rows<ChunkHit>(
        `SELECT ${HIT_COLUMNS}, best.score FROM (
           SELECT c.id, ts_rank(c.terms, q.query) AS score FROM ${ANY_TERM} AS q(query), chunks c
           WHERE c.terms @@ q.query AND c.collection = ANY($2) ORDER BY score DESC, c.id LIMIT $3
         ) AS best JOIN chunks c ON c.id = best.id JOIN documents d ON d.id = c.document_id ORDER BY best.score DESC, c.id`,
        [terms, collections, limit],
      );
    },
    async termFrequencies(collections, terms) {
      const [row] = await rows<{ chunks: number; frequencies: (number | null)[] }>(
        `SELECT (SELECT count(*) FROM chunks WHERE collection = ANY($2))::int AS chunks,
           array(SELECT CASE WHEN numnode(q) = 0 THEN NULL
                   ELSE (SELECT count(*) FROM chunks c WHERE c.collection = ANY($2) AND c.terms @@ q)::int END
                 FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n), plainto_tsquery('english', t) AS q ORDER BY n) AS frequencies`,
        [terms, collections],
      );
      return row ?? { chunks: 0, frequencies: terms.map(() => null) };
    },
    searchVectors: vectors.searchVectors,
  };
}
