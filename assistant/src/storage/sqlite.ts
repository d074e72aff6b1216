import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Storage } from "./types.js";
import { sqliteConversations } from "./sqlite/conversations.js";
import { sqliteJobs } from "./sqlite/jobs.js";
import { sqliteKnowledge } from "./sqlite/knowledge.js";
import { settle } from "./sqlite/settle.js";
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
  // Turns keyed by rowid, found through a narrow index. As a WITHOUT ROWID table each row was its own
  // key, and an assistant turn with its sources outgrows the quarter page an index cell keeps: each
  // comparison of a seek (reading history, numbering and inserting a turn) read the row's overflow
  // pages from the file. The copy keeps each conversation's turns together.
  `
  CREATE TABLE turns_by_rowid (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    created_at TEXT NOT NULL
  );
  INSERT INTO turns_by_rowid (conversation_id, seq, role, content, sources, prompt_tokens, completion_tokens, created_at)
    SELECT conversation_id, seq, role, content, sources, prompt_tokens, completion_tokens, created_at FROM turns ORDER BY conversation_id, seq;
  DROP TABLE turns;
  ALTER TABLE turns_by_rowid RENAME TO turns;
  CREATE UNIQUE INDEX turns_by_conversation ON turns (conversation_id, seq);
  `,
];

/**
 * The embedded store: one SQLite file under `dataDir`, which this process alone opens (embedded
 * storage runs one replica). Each concern keeps its own statements (sqlite/).
 */
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
  // A group commit undoes a failed chat by its savepoint, whose journal of the pages it changed SQLite
  // spills past 64 KiB into a temporary file (created, written page by page, closed, per commit, on the
  // event loop). In memory it costs a batch's changed pages for the length of the commit. Set after the
  // migrations, whose sorts may be as big as a table.
  db.pragma("temp_store = MEMORY");
  const checkpoints = checkpointInBackground(db, join(dataDir, DATABASE_FILE), CHECKPOINT_INTERVAL_MS);

  const conversations = sqliteConversations(db);
  const knowledge = sqliteKnowledge(db);
  return {
    ...conversations.store,
    ...knowledge.store,
    ...sqliteJobs(db, knowledge),
    ping() {
      return settle(() => db.open && db.prepare("SELECT 1 AS ok").get() !== undefined);
    },
    async close() {
      await checkpoints.stop();
      return settle(() => {
        if (!db.open) return;
        conversations.flush();
        db.close();
        knowledge.close();
      });
    },
  };
}
