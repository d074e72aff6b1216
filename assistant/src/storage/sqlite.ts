import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  ConversationNotFoundError,
  type ClaimedJob,
  type Conversation,
  type DocumentInput,
  type IngestionJob,
  type KnowledgeDocument,
  type NewTurn,
  type Owner,
  type SourceRef,
  type Storage,
  type Turn,
  type TurnMessage,
} from "./types.js";
import { ChunkIndex, type IndexedChunk } from "./chunk-index.js";
import { groupCommit } from "./group-commit.js";
import { ABANDONED_JOB_OUTCOME, countAbandoned, DOCUMENT_COLUMNS, JOB_COLUMNS, JOB_FOR_CONTENT, TENANT_TURN_ORDER, UNBLOCKED_QUEUED_JOB } from "./columns.js";
import { decodeCursor, pageOf } from "./cursor.js";
import { VectorIndex } from "./vector-index.js";
import { checkpointInBackground } from "./wal-checkpoints.js";

/** The database file under DATA_DIR; the backup tool snapshots and replaces this file. */
export const DATABASE_FILE = "assistant.db";

/** How often a worker thread checkpoints the WAL (wal-checkpoints.ts). */
const CHECKPOINT_INTERVAL_MS = 500;

/** Schema versions, applied in order and recorded in `PRAGMA user_version`; never edit a shipped one. */
export const migrations: readonly string[] = [
  `
  CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    turn_count INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX conversations_by_tenant ON conversations (tenant, updated_at DESC, id DESC);
  CREATE INDEX conversations_by_update ON conversations (updated_at);
  CREATE TABLE turns (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
  ) WITHOUT ROWID;
  CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant, source)
  );
  CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    tenant TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL
  );
  CREATE INDEX chunks_by_document ON chunks (document_id);
  CREATE VIRTUAL TABLE chunks_fts USING fts5 (terms, tokenize = 'porter unicode61');
  `,
  // Conversations belong to a user within a tenant; the ones stored before are LOCAL_OWNER's.
  `
  ALTER TABLE conversations ADD COLUMN user_id TEXT NOT NULL DEFAULT 'local';
  DROP INDEX conversations_by_tenant;
  CREATE INDEX conversations_by_owner ON conversations (tenant, user_id, updated_at DESC, id DESC);
  `,
  // Knowledge lives in collections: the assistant's own ('assistant', which is what every document
  // stored before was) and one per tenant. Documents keep their id across versions. Ingestion runs
  // as durable jobs that carry their upload until they end; seq orders them.
  `
  ALTER TABLE documents RENAME COLUMN tenant TO collection;
  ALTER TABLE chunks RENAME COLUMN tenant TO collection;
  UPDATE documents SET collection = 'assistant' WHERE collection = 'default';
  UPDATE chunks SET collection = 'assistant' WHERE collection = 'default';
  ALTER TABLE documents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
  CREATE TABLE ingestion_jobs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    collection TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT,
    format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    content BLOB,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    outcome TEXT,
    document_id TEXT,
    chunk_count INTEGER,
    run_after TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX ingestion_jobs_queue ON ingestion_jobs (status, run_after);
  CREATE INDEX ingestion_jobs_by_source ON ingestion_jobs (collection, source, status);
  CREATE INDEX ingestion_jobs_by_collection ON ingestion_jobs (collection, seq DESC);
  `,
  // A chunk's embedding (little-endian float32) when an embeddings endpoint is configured.
  `
  ALTER TABLE chunks ADD COLUMN embedding BLOB;
  `,
  // Whose turn it is to ingest: the running job of a collection, and when each was last served.
  `
  CREATE INDEX ingestion_jobs_turns ON ingestion_jobs (collection, status, updated_at);
  `,
];

interface ConversationRow {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  turn_count: number;
}

interface TurnRow {
  seq: number;
  role: "user" | "assistant";
  content: string;
  sources: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  created_at: string;
}

/** Binds a list of collections as one parameter, so one prepared statement serves any number of them. */
const IN_COLLECTIONS = "IN (SELECT value FROM json_each(?))";

interface TurnsAppend {
  owner: Owner;
  conversationId: string;
  turns: NewTurn[];
  newTitle: string | undefined;
}

function toConversation(row: ConversationRow): Conversation {
  return { id: row.id, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at, turnCount: row.turn_count };
}

function toTurn(row: TurnRow): Turn {
  return {
    seq: row.seq,
    role: row.role,
    content: row.content,
    createdAt: row.created_at,
    sources: JSON.parse(row.sources) as SourceRef[],
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
  };
}



/** Quotes each term as an FTS5 string so user text can never be read as query syntax. */
function matchExpression(terms: string[]): string {
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" OR ");
}

const toBlob = (vector: Float32Array): Buffer => Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
/** Copied out, since a Float32Array needs an aligned buffer. */
const fromBlob = (blob: Buffer): Float32Array => new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));

/** Runs synchronous SQLite work behind the async storage contract; a throw becomes a rejection. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(work());
  });
}

export function openSqliteStorage(dataDir: string, synchronous: "normal" | "full"): Storage {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, DATABASE_FILE));
  db.pragma("journal_mode = WAL");
  // WAL + NORMAL survives a killed process (the WAL is written before commit returns); FULL also survives power loss.
  db.pragma(`synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  const version = db.pragma("user_version", { simple: true }) as number;
  migrations.slice(version).forEach((sql, offset) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + offset + 1}`);
    })();
  });
  const checkpoints = checkpointInBackground(db, join(dataDir, DATABASE_FILE), CHECKPOINT_INTERVAL_MS);

  const statements = {
    insertConversation: db.prepare(
      "INSERT INTO conversations (id, tenant, user_id, title, created_at, updated_at, turn_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    getConversation: db.prepare<[string, string, string], ConversationRow>(
      "SELECT id, title, created_at, updated_at, turn_count FROM conversations WHERE tenant = ? AND user_id = ? AND id = ?",
    ),
    firstPage: db.prepare<[string, string, number], ConversationRow>(
      `SELECT id, title, created_at, updated_at, turn_count FROM conversations
       WHERE tenant = ? AND user_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?`,
    ),
    nextPage: db.prepare<[string, string, string, string, string, number], ConversationRow>(
      `SELECT id, title, created_at, updated_at, turn_count FROM conversations
       WHERE tenant = ? AND user_id = ? AND (updated_at < ? OR (updated_at = ? AND id < ?))
       ORDER BY updated_at DESC, id DESC LIMIT ?`,
    ),
    deleteConversation: db.prepare("DELETE FROM conversations WHERE tenant = ? AND user_id = ? AND id = ?"),
    lastSeq: db.prepare<[string], { seq: number | null }>("SELECT max(seq) AS seq FROM turns WHERE conversation_id = ?"),
    insertTurn: db.prepare(
      `INSERT INTO turns (conversation_id, seq, role, content, sources, prompt_tokens, completion_tokens, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    touchConversation: db.prepare(
      "UPDATE conversations SET updated_at = ?, turn_count = turn_count + ? WHERE tenant = ? AND user_id = ? AND id = ?",
    ),
    // Newest first along the primary key, without the sources, which are big and spill to overflow pages.
    recentTurns: db.prepare<[string, string, string, number], TurnMessage>(
      `SELECT t.role, t.content FROM turns t JOIN conversations c ON c.id = t.conversation_id
       WHERE c.tenant = ? AND c.user_id = ? AND t.conversation_id = ? ORDER BY t.seq DESC LIMIT ?`,
    ),
    listTurns: db.prepare<[string, string, string], TurnRow>(
      `SELECT t.seq, t.role, t.content, t.sources, t.prompt_tokens, t.completion_tokens, t.created_at
       FROM turns t JOIN conversations c ON c.id = t.conversation_id
       WHERE c.tenant = ? AND c.user_id = ? AND t.conversation_id = ? ORDER BY t.seq`,
    ),
    countActive: db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM conversations WHERE updated_at >= ?"),
    documentBySource: db.prepare<[string, string], { id: string; content_hash: string }>(
      "SELECT id, content_hash FROM documents WHERE collection = ? AND source = ?",
    ),
    deleteFts: db.prepare("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_id = ?)"),
    deleteChunks: db.prepare("DELETE FROM chunks WHERE document_id = ?"),
    deleteDocument: db.prepare("DELETE FROM documents WHERE id = ?"),
    documentOwned: db.prepare<[string, string], { id: string }>("SELECT id FROM documents WHERE collection = ? AND id = ?"),
    insertDocument: db.prepare(
      "INSERT INTO documents (id, collection, source, title, content_hash, chunk_count, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    replaceDocument: db.prepare(
      "UPDATE documents SET title = ?, content_hash = ?, chunk_count = ?, version = version + 1, updated_at = ? WHERE id = ?",
    ),
    insertChunk: db.prepare("INSERT INTO chunks (document_id, collection, ordinal, heading, text, embedding) VALUES (?, ?, ?, ?, ?, ?)"),
    chunkIds: db.prepare<[string], { id: number }>("SELECT id FROM chunks WHERE document_id = ?"),
    insertFts: db.prepare("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)"),
    listDocuments: db.prepare<[string], KnowledgeDocument>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE collection = ? ORDER BY source`),
    firstDocuments: db.prepare<[string, number], KnowledgeDocument>(
      `SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE collection ${IN_COLLECTIONS} ORDER BY source, id LIMIT ?`,
    ),
    nextDocuments: db.prepare<[string, string, string, number], KnowledgeDocument>(
      `SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE collection ${IN_COLLECTIONS} AND (source, id) > (?, ?) ORDER BY source, id LIMIT ?`,
    ),
    findDocument: db.prepare<[string, string], KnowledgeDocument>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE collection = ? AND source = ?`),
    getDocument: db.prepare<[string, string], KnowledgeDocument>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE id = ? AND collection ${IN_COLLECTIONS}`),
    countDocuments: db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM documents WHERE collection ${IN_COLLECTIONS}`),
    // Only for queries with a phrase term, whose matches only FTS5 can tell (chunk-index.ts).
    matchingChunks: db
      .prepare<[string, string], number>(
        `SELECT chunks_fts.rowid FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid WHERE chunks_fts MATCH ? AND c.collection ${IN_COLLECTIONS}`,
      )
      .pluck(),
    insertJob: db.prepare(
      `INSERT INTO ingestion_jobs (id, collection, source, title, format, content_hash, bytes, content, status, run_after, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
    ),
    // Tenants take turns; an older unfinished job for the same document goes first (columns.ts).
    nextJob: db.prepare<[string], { seq: number }>(
      `SELECT j.seq FROM ingestion_jobs j WHERE j.run_after <= ? AND ${UNBLOCKED_QUEUED_JOB} ORDER BY ${TENANT_TURN_ORDER} LIMIT 1`,
    ),
    startJob: db.prepare<[string, number], ClaimedJob>(
      `UPDATE ingestion_jobs SET status = 'running', attempts = attempts + 1, updated_at = ? WHERE seq = ?
       RETURNING ${JOB_COLUMNS}, content`,
    ),
    completeJob: db.prepare(
      `UPDATE ingestion_jobs SET status = 'succeeded', content = NULL, error = NULL, outcome = ?, document_id = ?, chunk_count = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ),
    // Only a running job ends this way: one a delete cancelled meanwhile stays failed.
    retryJob: db.prepare("UPDATE ingestion_jobs SET status = 'queued', error = ?, run_after = ?, updated_at = ? WHERE id = ? AND status = 'running'"),
    failJob: db.prepare("UPDATE ingestion_jobs SET status = 'failed', content = NULL, error = ?, updated_at = ? WHERE id = ? AND status = 'running'"),
    jobStatus: db.prepare<[string], string>("SELECT status FROM ingestion_jobs WHERE id = ?").pluck(),
    getJob: db.prepare<[string, string], IngestionJob>(`SELECT ${JOB_COLUMNS} FROM ingestion_jobs WHERE collection = ? AND id = ?`),
    listJobs: db.prepare<[string, number], IngestionJob>(`SELECT ${JOB_COLUMNS} FROM ingestion_jobs WHERE collection = ? ORDER BY seq DESC LIMIT ?`),
    requeueRunning: db.prepare<{ now: string; claimed: string; maxAttempts: number }, { status: string }>(
      `UPDATE ingestion_jobs SET ${ABANDONED_JOB_OUTCOME("CAST(@maxAttempts AS INTEGER)")}, updated_at = @now
       WHERE status = 'running' AND id NOT IN (SELECT value FROM json_each(@claimed)) RETURNING status`,
    ),
    releaseJob: db.prepare("UPDATE ingestion_jobs SET status = 'queued', attempts = attempts - 1, updated_at = ? WHERE id = ? AND status = 'running'"),
    touchJob: db.prepare("UPDATE ingestion_jobs SET updated_at = ? WHERE id = ? AND status = 'running'"),
    cancelUnfinished: db.prepare(
      "UPDATE ingestion_jobs SET status = 'failed', content = NULL, error = ?, updated_at = ? WHERE collection = ? AND source = ? AND status IN ('queued', 'running')",
    ),
    jobFor: db.prepare<[string, string, string, string], { id: string; unfinished: number }>(
      `SELECT ${JOB_FOR_CONTENT.columns} FROM ingestion_jobs WHERE collection = ? AND source = ? AND content_hash = ?
         AND ${JOB_FOR_CONTENT.status("?")} ${JOB_FOR_CONTENT.order}`,
    ),
    nextJobTime: db.prepare<[], { at: string | null }>(`SELECT min(j.run_after) AS at FROM ingestion_jobs j WHERE ${UNBLOCKED_QUEUED_JOB}`),
    pruneJobs: db.prepare("DELETE FROM ingestion_jobs WHERE status IN ('succeeded', 'failed') AND updated_at < ?"),
  };

  const removeDocument = (id: string): void => {
    statements.deleteFts.run(id);
    statements.deleteChunks.run(id);
    statements.deleteDocument.run(id);
  };

  const appendTurns = db.transaction(({ owner, conversationId, turns, newTitle }: TurnsAppend) => {
    const now = new Date().toISOString();
    let seq = 0;
    if (newTitle !== undefined) {
      statements.insertConversation.run(conversationId, owner.tenant, owner.user, newTitle, now, now, turns.length);
    } else {
      const touched = statements.touchConversation.run(now, turns.length, owner.tenant, owner.user, conversationId);
      if (touched.changes === 0) throw new ConversationNotFoundError(conversationId);
      seq = statements.lastSeq.get(conversationId)?.seq ?? 0;
    }
    for (const turn of turns) {
      seq += 1;
      statements.insertTurn.run(
        conversationId,
        seq,
        turn.role,
        turn.content,
        JSON.stringify(turn.sources),
        turn.promptTokens,
        turn.completionTokens,
        now,
      );
    }
  });
  // Concurrent chats share one commit; each append is a savepoint, so one that fails undoes only itself.
  const turnWriter = groupCommit(
    db.transaction((appends: readonly TurnsAppend[]) =>
      appends.map((append) => {
        try {
          appendTurns(append);
          return undefined;
        } catch (error) {
          return error;
        }
      }),
    ),
  );

  // The vector index follows the chunks table: loaded at open, changed only after a commit.
  const vectors = new VectorIndex();
  for (const row of db.prepare<[], { id: number; collection: string; embedding: Buffer }>("SELECT id, collection, embedding FROM chunks WHERE embedding IS NOT NULL").iterate()) {
    vectors.add(row.collection, row.id, fromBlob(row.embedding));
  }
  const chunkIndex = new ChunkIndex(db);

  const putDocument = db.transaction((collection: string, document: DocumentInput) => {
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

  const putJobDocument = db.transaction((jobId: string, collection: string, document: DocumentInput) =>
    statements.jobStatus.get(jobId) === "running" ? putDocument(collection, document) : undefined,
  );
  /** After a document's commit, the in-memory indexes take the same change. */
  const committedDocument = (collection: string, { id, changed, removed, added, indexed }: ReturnType<typeof putDocument>): { id: string; changed: boolean } => {
    chunkIndex.replace(removed, indexed);
    for (const chunkId of removed) vectors.remove(chunkId);
    for (const [chunkId, embedding] of added) vectors.add(collection, chunkId, embedding);
    return { id, changed };
  };
  const deleteDocument = db.transaction((collection: string, id: string) => {
    if (statements.documentOwned.get(collection, id) === undefined) return undefined;
    const removed = statements.chunkIds.all(id).map((row) => row.id);
    removeDocument(id);
    return removed;
  });

  // The file belongs to this process alone: a running job it did not claim was left by an earlier one.
  const claimed = new Set<string>();
  const claimJob = db.transaction((nowIso: string): ClaimedJob | undefined => {
    const next = statements.nextJob.get(nowIso);
    const job = next === undefined ? undefined : statements.startJob.get(nowIso, next.seq);
    if (job !== undefined) claimed.add(job.id);
    return job;
  });

  return {
    ping() {
      return settle(() => db.open && db.prepare("SELECT 1 AS ok").get() !== undefined);
    },
    async close() {
      await checkpoints.stop();
      return settle(() => {
        if (!db.open) return;
        turnWriter.flush();
        db.close();
        chunkIndex.close();
      });
    },
    getConversation(owner, id) {
      return settle(() => {
        const row = statements.getConversation.get(owner.tenant, owner.user, id);
        return row === undefined ? undefined : toConversation(row);
      });
    },
    listConversations(owner, limit, cursor) {
      return settle(() => {
        const rows =
          cursor === undefined
            ? statements.firstPage.all(owner.tenant, owner.user, limit + 1)
            : (() => {
                const [updatedAt, id] = decodeCursor(cursor);
                return statements.nextPage.all(owner.tenant, owner.user, updatedAt, updatedAt, id, limit + 1);
              })();
        const page = pageOf(rows, limit, (row) => [row.updated_at, row.id]);
        return { items: page.items.map(toConversation), nextCursor: page.nextCursor };
      });
    },
    deleteConversation(owner, id) {
      return settle(() => {
        return statements.deleteConversation.run(owner.tenant, owner.user, id).changes > 0;
      });
    },
    appendTurns(owner, conversationId, turns, newTitle) {
      return turnWriter.write({ owner, conversationId, turns, newTitle });
    },
    recentTurns(owner, conversationId, limit) {
      return settle(() => {
        return statements.recentTurns.all(owner.tenant, owner.user, conversationId, limit).reverse();
      });
    },
    listTurns(owner, conversationId) {
      return settle(() => {
        return statements.listTurns.all(owner.tenant, owner.user, conversationId).map(toTurn);
      });
    },
    countActiveConversations(sinceIso) {
      return settle(() => {
        return statements.countActive.get(sinceIso)?.n ?? 0;
      });
    },
    putDocument(collection, document) {
      return settle(() => committedDocument(collection, putDocument(collection, document)));
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
      return settle(() => {
        return chunkIndex.hits(vectors.search(collections, vector, limit), collections);
      });
    },
    enqueueJob(job) {
      return settle(() => {
        const now = new Date().toISOString();
        const id = randomUUID();
        statements.insertJob.run(id, job.collection, job.source, job.title ?? null, job.format, job.contentHash, job.content.length, job.content, now, now, now);
        const row = statements.getJob.get(job.collection, id);
        if (row === undefined) throw new Error(`ingestion job ${id} vanished after insert`);
        return row;
      });
    },
    claimJob(nowIso) {
      return settle(() => claimJob(nowIso));
    },
    storeJobDocument(jobId, collection, document) {
      return settle(() => {
        const written = putJobDocument(jobId, collection, document);
        return written === undefined ? undefined : committedDocument(collection, written);
      });
    },
    completeJob(id, { outcome, documentId, chunkCount }) {
      return settle(() => {
        statements.completeJob.run(outcome, documentId, chunkCount, new Date().toISOString(), id);
        claimed.delete(id);
      });
    },
    failJob(id, error, retryAtIso) {
      return settle(() => {
        const now = new Date().toISOString();
        if (retryAtIso === undefined) statements.failJob.run(error, now, id);
        else statements.retryJob.run(error, retryAtIso, now, id);
        claimed.delete(id);
      });
    },
    getJob(collection, id) {
      return settle(() => statements.getJob.get(collection, id));
    },
    listJobs(collection, limit) {
      return settle(() => statements.listJobs.all(collection, limit));
    },
    requeueRunningJobs(maxAttempts) {
      return settle(() => countAbandoned(statements.requeueRunning.all({ now: new Date().toISOString(), claimed: JSON.stringify([...claimed]), maxAttempts })));
    },
    releaseJob(id) {
      return settle(() => {
        statements.releaseJob.run(new Date().toISOString(), id);
        claimed.delete(id);
      });
    },
    touchJob(id) {
      return settle(() => {
        statements.touchJob.run(new Date().toISOString(), id);
      });
    },
    cancelUnfinishedJobs(collection, source, reason) {
      return settle(() => statements.cancelUnfinished.run(reason, new Date().toISOString(), collection, source).changes);
    },
    jobFor(collection, source, contentHash, failedSinceIso) {
      return settle(() => {
        const row = statements.jobFor.get(collection, source, contentHash, failedSinceIso);
        return row && { id: row.id, unfinished: row.unfinished === 1 };
      });
    },
    nextJobTime() {
      return settle(() => statements.nextJobTime.get()?.at ?? undefined);
    },
    pruneJobs(endedBeforeIso) {
      return settle(() => statements.pruneJobs.run(endedBeforeIso).changes);
    },
  };
}
