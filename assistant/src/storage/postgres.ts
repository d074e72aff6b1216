import pg from "pg";
import type { Storage } from "./types.js";
import { postgresConversations } from "./postgres/conversations.js";
import { postgresDatabase } from "./postgres/database.js";
import { postgresJobs } from "./postgres/jobs.js";
import { postgresKnowledge } from "./postgres/knowledge.js";
import { postgresVectors } from "./postgres/vectors.js";

/**
 * Schema versions, applied in order under an advisory lock (replicas may start together) and
 * recorded in `assistant_schema`; never edit a shipped one. Ids and times are text in the "C"
 * collation, ordered bytewise exactly as the embedded store orders them.
 */
export const postgresMigrations: readonly string[] = [
  `
  CREATE EXTENSION IF NOT EXISTS vector;
  CREATE TABLE conversations (
    id text COLLATE "C" PRIMARY KEY,
    tenant text NOT NULL,
    user_id text NOT NULL,
    title text NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL,
    turn_count integer NOT NULL DEFAULT 0
  );
  CREATE INDEX conversations_by_owner ON conversations (tenant, user_id, updated_at DESC, id DESC);
  CREATE INDEX conversations_by_update ON conversations (updated_at);
  CREATE TABLE turns (
    conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    role text NOT NULL CHECK (role IN ('user', 'assistant')),
    content text NOT NULL,
    sources jsonb NOT NULL DEFAULT '[]',
    prompt_tokens integer,
    completion_tokens integer,
    created_at text COLLATE "C" NOT NULL,
    PRIMARY KEY (conversation_id, seq)
  );
  CREATE TABLE documents (
    id text COLLATE "C" PRIMARY KEY,
    collection text NOT NULL,
    source text NOT NULL,
    title text NOT NULL,
    content_hash text NOT NULL,
    chunk_count integer NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at text COLLATE "C" NOT NULL,
    UNIQUE (collection, source)
  );
  CREATE TABLE chunks (
    id bigserial PRIMARY KEY,
    document_id text COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    collection text NOT NULL,
    ordinal integer NOT NULL,
    heading text NOT NULL,
    text text NOT NULL,
    -- Segmented by the service (Intl.Segmenter for Chinese), then stemmed here for English.
    terms tsvector NOT NULL,
    embedding vector
  );
  CREATE INDEX chunks_by_document ON chunks (document_id);
  CREATE INDEX chunks_terms ON chunks USING gin (terms);
  CREATE TABLE ingestion_jobs (
    seq bigserial PRIMARY KEY,
    id text COLLATE "C" NOT NULL UNIQUE,
    collection text NOT NULL,
    source text NOT NULL,
    title text,
    format text NOT NULL,
    content_hash text NOT NULL,
    bytes integer NOT NULL,
    content bytea,
    status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    error text,
    outcome text,
    document_id text,
    chunk_count integer,
    run_after text COLLATE "C" NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    updated_at text COLLATE "C" NOT NULL
  );
  CREATE INDEX ingestion_jobs_queue ON ingestion_jobs (status, run_after);
  CREATE INDEX ingestion_jobs_by_source ON ingestion_jobs (collection, source, status);
  CREATE INDEX ingestion_jobs_by_collection ON ingestion_jobs (collection, seq DESC);
  `,
  // Whose turn it is to ingest: the running job of a collection, and when each was last served.
  `
  CREATE INDEX ingestion_jobs_turns ON ingestion_jobs (collection, status, updated_at);
  `,
];

export interface PostgresOptions {
  maxConnections?: number;
  /**
   * Told when an idle pooled connection breaks (a restart or failover of the server, a proxy timing
   * the connection out). The pool drops that connection and opens a new one when it needs it; without
   * a listener the pool's error event would end the process.
   */
  onIdleConnectionError?: (error: Error) => void;
  /**
   * A running job untouched this long belongs to a replica that stopped, and is queued again. The
   * replica working on a job touches it far more often than this.
   */
  staleJobMs?: number;
  /**
   * How long opening waits for a server that refuses connections or is still starting (pods and
   * their database are often started together); told of each failed try.
   */
  startupWaitMs?: number;
  onUnreachable?: (problem: string, waitedMs: number) => void;
}

/** Errors of a server that is not there yet, or not accepting connections yet: worth another try. */
const NOT_YET = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "57P03"]);

/**
 * Waits until the server answers, within `waitMs`, then checks the database can hold the text the
 * assistant stores: a database not encoded in UTF8 (SQL_ASCII, a locale-less initdb's default) drops
 * every Chinese word from full-text search, which would fail silently as "not found".
 */
async function untilReachable(pool: pg.Pool, waitMs: number, onUnreachable: (problem: string, waitedMs: number) => void): Promise<void> {
  const started = Date.now();
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 4000)) {
    try {
      const encoding = (await pool.query<{ server_encoding: string }>("SHOW server_encoding")).rows[0]?.server_encoding;
      if (encoding !== "UTF8") throw new Error(`the database is encoded in ${encoding ?? "an unknown encoding"}; the assistant needs UTF8 (CREATE DATABASE … ENCODING 'UTF8', or initdb --encoding=UTF8)`);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const waited = Date.now() - started;
      if (code === undefined || !NOT_YET.has(code) || waited + delayMs > waitMs) throw error;
      onUnreachable((error as Error).message, waited);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/**
 * The store on PostgreSQL, shared by any number of stateless replicas: conversations, the documents
 * with their chunks (full-text search on the service's own segmentation, pgvector with one HNSW
 * index per vector length), and the ingestion queue, whose jobs replicas claim with SKIP LOCKED.
 * Each concern keeps its own SQL (postgres/).
 */
export async function openPostgresStorage(connectionString: string, options: PostgresOptions = {}): Promise<Storage> {
  // Set for every session: an HNSW scan filtered to a caller's collections keeps going until it has enough rows.
  const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10, options: "-c hnsw.iterative_scan=relaxed_order -c hnsw.ef_search=100" });
  pool.on("error", options.onIdleConnectionError ?? (() => undefined));
  const db = postgresDatabase(pool);

  await untilReachable(pool, options.startupWaitMs ?? 60_000, options.onUnreachable ?? (() => undefined));
  await db.schemaChange(async (client) => {
    await client.query("CREATE TABLE IF NOT EXISTS assistant_schema (version integer NOT NULL)");
    const version = (await client.query<{ version: number }>("SELECT coalesce(max(version), 0) AS version FROM assistant_schema")).rows[0]?.version ?? 0;
    for (const [offset, sql] of postgresMigrations.slice(version).entries()) {
      await client.query(sql);
      await client.query("INSERT INTO assistant_schema (version) VALUES ($1)", [version + offset + 1]);
    }
  });

  const vectors = postgresVectors(db);
  return {
    ...postgresConversations(db),
    ...postgresKnowledge(db, vectors),
    ...postgresJobs(db, vectors, options.staleJobMs ?? 15 * 60 * 1000),
    async ping() {
      return (await db.rows("SELECT 1 AS ok")).length === 1;
    },
    async close() {
      await pool.end();
    },
  };
}
