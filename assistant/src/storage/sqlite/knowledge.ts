import { randomUUID } from "node:crypto";
import type { Database } from "better-sqlite3";
import { ChunkIndex, type IndexedChunk } from "../chunk-index.js";
import { decodeCursor, pageOf } from "../cursor.js";
import { documentSql } from "../sql/documents.js";
import type { DocumentInput, KnowledgeDocument, KnowledgeStore } from "../types.js";
import { settle } from "./settle.js";
import { loadVectorIndex, toBlob } from "./vectors.js";

/** Binds a list of collections as one parameter, so one prepared statement serves any number of them. */
const IN_COLLECTIONS = "IN (SELECT value FROM json_each(?))";

/** Quotes each term as an FTS5 string so user text can never be read as query syntax. */
function matchExpression(terms: string[]): string {
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" OR ");
}

/** What writing a document changed, for the in-memory indexes to take over once it has committed. */
export interface DocumentWrite {
  id: string;
  changed: boolean;
  removed: number[];
  added: [number, Float32Array][];
  indexed: IndexedChunk[];
}

export interface SqliteKnowledge {
  store: KnowledgeStore;
  /** Writes a document as putDocument does, within the caller's transaction (a savepoint of it). */
  write(collection: string, document: DocumentInput): DocumentWrite;
  /** After the write's commit, the in-memory indexes take the same change. */
  committed(collection: string, write: DocumentWrite): { id: string; changed: boolean };
  close(): void;
}

/**
 * Documents and their chunks in the embedded database, searched through indexes in memory: BM25 over
 * the chunks' terms (chunk-index.ts) and their embeddings (vectors.ts).
 */
export function sqliteKnowledge(db: Database): SqliteKnowledge {
  const statements = {
    documentBySource: db.prepare<[string, string], { id: string; content_hash: string }>(
      "SELECT id, content_hash FROM documents WHERE collection = ? AND source = ?",
    ),
    deleteFts: db.prepare("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_id = ?)"),
    deleteChunks: db.prepare(documentSql.deleteChunks),
    deleteDocument: db.prepare("DELETE FROM documents WHERE id = ?"),
    documentOwned: db.prepare<[string, string], { id: string }>("SELECT id FROM documents WHERE collection = ? AND id = ?"),
    insertDocument: db.prepare(documentSql.insert),
    replaceDocument: db.prepare(documentSql.replace),
    insertChunk: db.prepare("INSERT INTO chunks (document_id, collection, ordinal, heading, text, embedding) VALUES (?, ?, ?, ?, ?, ?)"),
    chunkIds: db.prepare<[string], { id: number }>("SELECT id FROM chunks WHERE document_id = ?"),
    insertFts: db.prepare("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)"),
    listDocuments: db.prepare<[string], KnowledgeDocument>(`SELECT ${documentSql.columns} FROM documents WHERE collection = ? ORDER BY source`),
    firstDocuments: db.prepare<[string, number], KnowledgeDocument>(
      `SELECT ${documentSql.columns} FROM documents WHERE collection ${IN_COLLECTIONS} ORDER BY source, id LIMIT ?`,
    ),
    nextDocuments: db.prepare<[string, string, string, number], KnowledgeDocument>(
      `SELECT ${documentSql.columns} FROM documents WHERE collection ${IN_COLLECTIONS} AND (source, id) > (?, ?) ORDER BY source, id LIMIT ?`,
    ),
    findDocument: db.prepare<[string, string], KnowledgeDocument>(documentSql.find),
    getDocument: db.prepare<[string, string], KnowledgeDocument>(`SELECT ${documentSql.columns} FROM documents WHERE id = ? AND collection ${IN_COLLECTIONS}`),
    countDocuments: db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM documents WHERE collection ${IN_COLLECTIONS}`),
    // Only for queries with a phrase term, whose matches only FTS5 can tell (chunk-index.ts).
    matchingChunks: db
      .prepare<[string, string], number>(
        `SELECT chunks_fts.rowid FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid WHERE chunks_fts MATCH ? AND c.collection ${IN_COLLECTIONS}`,
      )
      .pluck(),
  };

  const vectors = loadVectorIndex(db);
  const chunkIndex = new ChunkIndex(db);

  const write = db.transaction((collection: string, document: DocumentInput): DocumentWrite => {
    const existing = statements.documentBySource.get(collection, document.source);
    if (existing?.content_hash === document.contentHash) return { id: existing.id, changed: false, removed: [], added: [], indexed: [] };
    const now = new Date().toISOString();
    const id = existing?.id ?? randomUUID();
    const removed = existing === undefined ? [] : statements.chunkIds.all(id).map((row) => row.id);
    if (existing === undefined) {
      statements.insertDocument.run(id, collection, document.source, document.title, document.contentHash, document.chunks.length, now);
    } else {
      statements.deleteFts.run(id);
      statements.deleteChunks.run(id);
      statements.replaceDocument.run(document.title, document.contentHash, document.chunks.length, now, id);
    }
    const added: [number, Float32Array][] = [];
    const tokens = chunkIndex.tokenize(document.chunks.map((chunk) => chunk.terms));
    const indexed: IndexedChunk[] = [];
    for (const chunk of document.chunks) {
      const { lastInsertRowid } = statements.insertChunk.run(
        id,
        collection,
        chunk.ordinal,
        chunk.heading,
        chunk.text,
        chunk.embedding === undefined ? null : toBlob(chunk.embedding),
      );
      statements.insertFts.run(lastInsertRowid, chunk.terms);
      indexed.push({
        chunkId: Number(lastInsertRowid),
        documentId: id,
        collection,
        title: document.title,
        source: document.source,
        heading: chunk.heading,
        text: chunk.text,
        tokens: tokens[indexed.length] ?? new Map<string, number>(),
      });
      if (chunk.embedding !== undefined) added.push([Number(lastInsertRowid), chunk.embedding]);
    }
    return { id, changed: true, removed, added, indexed };
  });

  const committed = (collection: string, { id, changed, removed, added, indexed }: DocumentWrite): { id: string; changed: boolean } => {
    chunkIndex.replace(removed, indexed);
    for (const chunkId of removed) vectors.remove(chunkId);
    for (const [chunkId, embedding] of added) vectors.add(collection, chunkId, embedding);
    return { id, changed };
  };

  const deleteDocument = db.transaction((collection: string, id: string) => {
    if (statements.documentOwned.get(collection, id) === undefined) return undefined;
    const removed = statements.chunkIds.all(id).map((row) => row.id);
    statements.deleteFts.run(id);
    statements.deleteChunks.run(id);
    statements.deleteDocument.run(id);
    return removed;
  });

  return {
    write,
    committed,
    close: () => {
      chunkIndex.close();
    },
    store: {
      putDocument(collection, document) {
        return settle(() => committed(collection, write(collection, document)));
      },
      listDocuments(collection) {
        return settle(() => statements.listDocuments.all(collection));
      },
      pageDocuments(collections, limit, cursor) {
        return settle(() => {
          const scope = JSON.stringify(collections);
          const rows =
            cursor === undefined ? statements.firstDocuments.all(scope, limit + 1) : statements.nextDocuments.all(scope, ...decodeCursor(cursor), limit + 1);
          return pageOf(rows, limit, (document) => [document.source, document.id]);
        });
      },
      getDocument(collections, id) {
        return settle(() => statements.getDocument.get(id, JSON.stringify(collections)));
      },
      findDocument(collection, source) {
        return settle(() => statements.findDocument.get(collection, source));
      },
      countDocuments(collections) {
        return settle(() => statements.countDocuments.get(JSON.stringify(collections))?.n ?? 0);
      },
      deleteDocument(collection, id) {
        return settle(() => {
          const removed = deleteDocument(collection, id);
          for (const chunkId of removed ?? []) vectors.remove(chunkId);
          chunkIndex.replace(removed ?? [], []);
          return removed !== undefined;
        });
      },
      searchChunks(collections, terms, limit) {
        return settle(() => {
          if (terms.length === 0) return [];
          const ranked = chunkIndex.search(collections, terms, limit, () => statements.matchingChunks.all(matchExpression(terms), JSON.stringify(collections)));
          return chunkIndex.hits(ranked, collections);
        });
      },
      termFrequencies(collections, terms) {
        return settle(() => chunkIndex.termFrequencies(collections, terms));
      },
      searchVectors(collections, vector, limit) {
        return settle(() => chunkIndex.hits(vectors.search(collections, vector, limit), collections));
      },
    },
  };
}
