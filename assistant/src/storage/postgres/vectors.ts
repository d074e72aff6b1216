import pgvector from "pgvector/pg";
import type { ChunkHit, ChunkInput, DocumentInput, KnowledgeStore } from "../types.js";
import type { PostgresDatabase } from "./database.js";

/** The columns of a search result, from chunks `c` joined with documents `d`. */
export const HIT_COLUMNS = `c.id::text AS "chunkId", c.document_id AS "documentId", c.collection, d.title, d.source, c.heading, c.text`;

/** A chunk's embedding as a query parameter (pgvector's text form), null without one. */
export const embeddingParameter = (chunk: ChunkInput): string | null =>
  chunk.embedding === undefined ? null : (pgvector.toSql(Array.from(chunk.embedding)) as string);

export interface PostgresVectors {
  /** A vector index for each length the document's embeddings have, made before its transaction. */
  ensureIndexes(document: DocumentInput): Promise<void>;
  searchVectors: KnowledgeStore["searchVectors"];
}

/**
 * The chunks' embeddings in one `vector` column of any length. pgvector's HNSW index needs one
 * length, so each length gets its own partial index, made the first time a document brings it.
 */
export function postgresVectors({ rows, schemaChange }: PostgresDatabase): PostgresVectors {
  const indexedLengths = new Set<number>();
  const ensureIndex = async (dimensions: number): Promise<void> => {
    if (indexedLengths.has(dimensions)) return;
    await schemaChange(async (client) => {
      await client.query(
        `CREATE INDEX IF NOT EXISTS chunks_embedding_${dimensions} ON chunks
         USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE vector_dims(embedding) = ${dimensions}`,
      );
    });
    indexedLengths.add(dimensions);
  };
  return {
    async ensureIndexes(document) {
      const dimensions = new Set(document.chunks.flatMap((chunk) => (chunk.embedding === undefined ? [] : [chunk.embedding.length])));
      for (const length of dimensions) await ensureIndex(length);
    },
    async searchVectors(collections, vector, limit) {
      const length = vector.length;
      if (!Number.isInteger(length) || length < 1) return [];
      // The same expression as the partial HNSW index of this length, so the planner can use it.
      return rows<ChunkHit>(
        `SELECT * FROM (
           SELECT ${HIT_COLUMNS}, 1 - (c.embedding::vector(${length}) <=> $1::vector(${length})) AS score
           FROM chunks c JOIN documents d ON d.id = c.document_id
           WHERE vector_dims(c.embedding) = ${length} AND c.collection = ANY($2)
           ORDER BY c.embedding::vector(${length}) <=> $1::vector(${length}) LIMIT $3
         ) AS nearest ORDER BY score DESC`,
        [pgvector.toSql(Array.from(vector)), collections, limit],
      );
    },
  };
}
