import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  ConversationNotFoundError,
  InvalidCursorError,
  type ChunkHit,
  type Conversation,
  type DocumentInput,
  type KnowledgeDocument,
  type NewTurn,
  type Owner,
  type Page,
  type SourceRef,
  type Storage,
  type Turn,
} from "./types.js";

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

interface DocumentRow {
  id: string;
  source: string;
  title: string;
  content_hash: string;
  chunk_count: number;
  updated_at: string;
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

function encodeCursor(row: ConversationRow): string {
  return Buffer.from(JSON.stringify([row.updated_at, row.id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string") {
      return [value[0], value[1]];
    }
  } catch {
    // falls through to the error below: a cursor the client made up is a client error
  }
  throw new InvalidCursorError("cursor is not one this service issued");
}

/** Quotes each term as an FTS5 string so user text can never be read as query syntax. */
function matchExpression(terms: string[]): string {
  return terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" OR ");
}

/** Runs synchronous SQLite work behind the async storage contract; a throw becomes a rejection. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(work());
  });
}

export function openSqliteStorage(dataDir: string, synchronous: "normal" | "full"): Storage {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, "assistant.db"));
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

  const statements = {
    insertConversation: db.prepare(
      "INSERT INTO conversations (id, tenant, user_id, title, created_at, updated_at, turn_count) VALUES (?, ?, ?, ?, ?, ?, 0)",
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
    recentTurns: db.prepare<[string, string, string, number], TurnRow>(
      `SELECT * FROM (SELECT t.seq, t.role, t.content, t.sources, t.prompt_tokens, t.completion_tokens, t.created_at
         FROM turns t JOIN conversations c ON c.id = t.conversation_id
         WHERE c.tenant = ? AND c.user_id = ? AND t.conversation_id = ? ORDER BY t.seq DESC LIMIT ?) ORDER BY seq`,
    ),
    listTurns: db.prepare<[string, string, string], TurnRow>(
      `SELECT t.seq, t.role, t.content, t.sources, t.prompt_tokens, t.completion_tokens, t.created_at
       FROM turns t JOIN conversations c ON c.id = t.conversation_id
       WHERE c.tenant = ? AND c.user_id = ? AND t.conversation_id = ? ORDER BY t.seq`,
    ),
    countActive: db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM conversations WHERE updated_at >= ?"),
    documentBySource: db.prepare<[string, string], { id: string; content_hash: string }>(
      "SELECT id, content_hash FROM documents WHERE tenant = ? AND source = ?",
    ),
    deleteFts: db.prepare("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_id = ?)"),
    deleteChunks: db.prepare("DELETE FROM chunks WHERE document_id = ?"),
    deleteDocument: db.prepare("DELETE FROM documents WHERE id = ?"),
    documentOwned: db.prepare<[string, string], { id: string }>("SELECT id FROM documents WHERE tenant = ? AND id = ?"),
    insertDocument: db.prepare(
      "INSERT INTO documents (id, tenant, source, title, content_hash, chunk_count, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    insertChunk: db.prepare("INSERT INTO chunks (document_id, tenant, ordinal, heading, text) VALUES (?, ?, ?, ?, ?)"),
    insertFts: db.prepare("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)"),
    listDocuments: db.prepare<[string], DocumentRow>(
      "SELECT id, source, title, content_hash, chunk_count, updated_at FROM documents WHERE tenant = ? ORDER BY source",
    ),
    countDocuments: db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM documents WHERE tenant = ?"),
    search: db.prepare<[string, string, number], { chunk_id: number; document_id: string; title: string; source: string; heading: string; text: string; rank: number }>(
      `SELECT c.id AS chunk_id, c.document_id, d.title, d.source, c.heading, c.text, bm25(chunks_fts) AS rank
       FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
       WHERE chunks_fts MATCH ? AND c.tenant = ? ORDER BY rank LIMIT ?`,
    ),
  };

  const removeDocument = (id: string): void => {
    statements.deleteFts.run(id);
    statements.deleteChunks.run(id);
    statements.deleteDocument.run(id);
  };

  const appendTurns = db.transaction((owner: Owner, conversationId: string, turns: NewTurn[], newTitle: string | undefined) => {
    const now = new Date().toISOString();
    if (newTitle !== undefined) statements.insertConversation.run(conversationId, owner.tenant, owner.user, newTitle, now, now);
    const touched = statements.touchConversation.run(now, turns.length, owner.tenant, owner.user, conversationId);
    if (touched.changes === 0) throw new ConversationNotFoundError(conversationId);
    let seq = statements.lastSeq.get(conversationId)?.seq ?? 0;
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

  const putDocument = db.transaction((tenant: string, document: DocumentInput) => {
    const existing = statements.documentBySource.get(tenant, document.source);
    if (existing?.content_hash === document.contentHash) return { id: existing.id, changed: false };
    if (existing !== undefined) removeDocument(existing.id);
    const id = randomUUID();
    statements.insertDocument.run(
      id,
      tenant,
      document.source,
      document.title,
      document.contentHash,
      document.chunks.length,
      new Date().toISOString(),
    );
    for (const chunk of document.chunks) {
      const { lastInsertRowid } = statements.insertChunk.run(id, tenant, chunk.ordinal, chunk.heading, chunk.text);
      statements.insertFts.run(lastInsertRowid, chunk.terms);
    }
    return { id, changed: true };
  });

  const deleteDocument = db.transaction((tenant: string, id: string) => {
    if (statements.documentOwned.get(tenant, id) === undefined) return false;
    removeDocument(id);
    return true;
  });

  return {
    ping() {
      return settle(() => db.open && db.prepare("SELECT 1 AS ok").get() !== undefined);
    },
    close() {
      return settle(() => {
        if (db.open) db.close();
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
        const items = rows.slice(0, limit);
        const last = items.at(-1);
        const page: Page<Conversation> = {
          items: items.map(toConversation),
          nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
        };
        return page;
      });
    },
    deleteConversation(owner, id) {
      return settle(() => {
        return statements.deleteConversation.run(owner.tenant, owner.user, id).changes > 0;
      });
    },
    appendTurns(owner, conversationId, turns, newTitle) {
      return settle(() => {
        appendTurns(owner, conversationId, turns, newTitle);
      });
    },
    recentTurns(owner, conversationId, limit) {
      return settle(() => {
        return statements.recentTurns.all(owner.tenant, owner.user, conversationId, limit).map(toTurn);
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
    putDocument(tenant, document) {
      return settle(() => {
        return putDocument(tenant, document);
      });
    },
    listDocuments(tenant) {
      return settle(() => {
        return statements.listDocuments.all(tenant).map(
          (row): KnowledgeDocument => ({
            id: row.id,
            source: row.source,
            title: row.title,
            contentHash: row.content_hash,
            chunkCount: row.chunk_count,
            updatedAt: row.updated_at,
          }),
        );
      });
    },
    countDocuments(tenant) {
      return settle(() => statements.countDocuments.get(tenant)?.n ?? 0);
    },
    deleteDocument(tenant, id) {
      return settle(() => {
        return deleteDocument(tenant, id);
      });
    },
    searchChunks(tenant, terms, limit) {
      return settle(() => {
        if (terms.length === 0) return [];
        return statements.search.all(matchExpression(terms), tenant, limit).map(
          (row): ChunkHit => ({
            chunkId: String(row.chunk_id),
            documentId: row.document_id,
            title: row.title,
            source: row.source,
            heading: row.heading,
            text: row.text,
            score: -row.rank,
          }),
        );
      });
    },
  };
}
