import type { Database } from "better-sqlite3";
import { VectorIndex } from "../vector-index.js";

/** A chunk's embedding as stored: its float32 values, little-endian. */
export const toBlob = (vector: Float32Array): Buffer => Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
/** Copied out, since a Float32Array needs an aligned buffer. */
const fromBlob = (blob: Buffer): Float32Array => new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));

/**
 * The chunks' embeddings in memory, for nearest-neighbour search. The chunks table stays the source
 * of truth: the index is loaded from it here, and changed only after a write of chunks commits.
 */
export function loadVectorIndex(db: Database): VectorIndex {
  const vectors = new VectorIndex();
  for (const row of db.prepare<[], { id: number; collection: string; embedding: Buffer }>("SELECT id, collection, embedding FROM chunks WHERE embedding IS NOT NULL").iterate()) {
    vectors.add(row.collection, row.id, fromBlob(row.embedding));
  }
  return vectors;
}
