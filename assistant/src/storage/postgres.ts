import { randomUUID } from "node:crypto";
import pg from "pg";
import pgvector from "pgvector/pg";
import { ABANDONED_JOB_OUTCOME, countAbandoned, DOCUMENT_COLUMNS, JOB_COLUMNS, JOB_FOR_CONTENT, TENANT_TURN_ORDER, UNBLOCKED_QUEUED_JOB } from "./columns.js";
import { decodeCursor, pageOf } from "./cursor.js";
import {
  ConversationNotFoundError,
  type ChunkHit,
  type ClaimedJob,
  type Conversation,
  type DocumentInput,
  type IngestionJob,
  type KnowledgeDocument,
  type Storage,
  type Turn,
} from "./types.js";

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

/** One lock id for every replica's migrations ("assi" in ASCII). */
const MIGRATION_LOCK = 0x61737369;


const CONVERSATION = `id, title, created_at AS "createdAt", updated_at AS "updatedAt", turn_count AS "turnCount"`;
const TURN = `t.seq, t.role, t.content, t.sources, t.prompt_tokens AS "promptTokens", t.completion_tokens AS "completionTokens", t.created_at AS "createdAt"`;
const HIT = `c.id::text AS "chunkId", c.document_id AS "documentId", c.collection, d.title, d.source, c.heading, c.text`;
/** The OR of every term, each as plain words (never query syntax), stemmed as the index is. */
const ANY_TERM = `(SELECT string_agg('(' || plainto_tsquery('english', t)::text || ')', ' | ')::tsquery
  FROM unnest($1::text[]) AS t WHERE numnode(plainto_tsquery('english', t)) > 0)`;

/**
 * The store on PostgreSQL, shared by any number of stateless replicas: conversations, the documents
 * with their chunks (full-text search on the service's own segmentation, pgvector with one HNSW
 * index per vector length), and the ingestion queue, whose jobs replicas claim with SKIP LOCKED.
 */
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

export async function openPostgresStorage(connectionString: string, options: PostgresOptions = {}): Promise<Storage> {
  const staleJobMs = options.staleJobMs ?? 15 * 60 * 1000;
  // Set for every session: an HNSW scan filtered to a caller's collections keeps going until it has enough rows.
  const pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10, options: "-c hnsw.iterative_scan=relaxed_order -c hnsw.ef_search=100" });
  const onIdleConnectionError = options.onIdleConnectionError ?? (() => undefined);
  pool.on("error", onIdleConnectionError);
  const transaction = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    // A connection that cannot even roll back is broken: it leaves the pool instead of going back to it.
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  };
  const rows = async <T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> => (await pool.query<T>(sql, values)).rows;

  await untilReachable(pool, options.startupWaitMs ?? 60_000, options.onUnreachable ?? (() => undefined));
  await transaction(async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS assistant_schema (version integer NOT NULL)");
    const version = (await client.query<{ version: number }>("SELECT coalesce(max(version), 0) AS version FROM assistant_schema")).rows[0]?.version ?? 0;
    for (const [offset, sql] of postgresMigrations.slice(version).entries()) {
      await client.query(sql);
      await client.query("INSERT INTO assistant_schema (version) VALUES ($1)", [version + offset + 1]);
    }
  });

  const indexedLengths = new Set<number>();
  /** pgvector's HNSW index needs one vector length: each length gets its own partial index. */
  const ensureVectorIndex = async (dimensions: number): Promise<void> => {
    if (indexedLengths.has(dimensions)) return;
    await transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await client.query(
        `CREATE INDEX IF NOT EXISTS chunks_embedding_${dimensions} ON chunks
         USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE vector_dims(embedding) = ${dimensions}`,
      );
    });
    indexedLengths.add(dimensions);
  };

  /** A vector index for each length the document's embeddings have, made before its transaction. */
  const ensureVectorIndexes = async (document: DocumentInput): Promise<void> => {
    const dimensions = new Set(document.chunks.flatMap((chunk) => (chunk.embedding === undefined ? [] : [chunk.embedding.length])));
    for (const length of dimensions) await ensureVectorIndex(length);
  };

  /** Inserts or replaces a document within a transaction (see KnowledgeStore.putDocument). */
  const writeDocument = async (client: pg.PoolClient, collection: string, document: DocumentInput): Promise<{ id: string; changed: boolean }> => {
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
      await client.query(
        "INSERT INTO documents (id, collection, source, title, content_hash, chunk_count, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [id, collection, document.source, document.title, document.contentHash, document.chunks.length, now],
      );
    } else {
      await client.query("DELETE FROM chunks WHERE document_id = $1", [id]);
      await client.query("UPDATE documents SET title = $1, content_hash = $2, chunk_count = $3, version = version + 1, updated_at = $4 WHERE id = $5", [
        document.title,
        document.contentHash,
        document.chunks.length,
        now,
        id,
      ]);
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
        document.chunks.map((chunk) => (chunk.embedding === undefined ? null : (pgvector.toSql(Array.from(chunk.embedding)) as string))),
      ],
    );
    return { id, changed: true };
  };

  return {
    async ping() {
      return (await rows("SELECT 1 AS ok")).length === 1;
    },
    async close() {
      await pool.end();
    },

    async getConversation(owner, id) {
      const [row] = await rows<Conversation>(`SELECT ${CONVERSATION} FROM conversations WHERE tenant = $1 AND user_id = $2 AND id = $3`, [owner.tenant, owner.user, id]);
      return row;
    },
    async listConversations(owner, limit, cursor) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const found = await rows<Conversation>(
        `SELECT ${CONVERSATION} FROM conversations WHERE tenant = $1 AND user_id = $2
         AND ($3::text IS NULL OR (updated_at, id) < ($3, $4)) ORDER BY updated_at DESC, id DESC LIMIT $5`,
        [owner.tenant, owner.user, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      return pageOf(found, limit, (conversation) => [conversation.updatedAt, conversation.id]);
    },
    async deleteConversation(owner, id) {
      return ((await pool.query("DELETE FROM conversations WHERE tenant = $1 AND user_id = $2 AND id = $3", [owner.tenant, owner.user, id])).rowCount ?? 0) > 0;
    },
    async appendTurns(owner, conversationId, turns, newTitle) {
      await transaction(async (client) => {
        const now = new Date().toISOString();
        if (newTitle !== undefined) {
          await client.query("INSERT INTO conversations (id, tenant, user_id, title, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)", [
            conversationId,
            owner.tenant,
            owner.user,
            newTitle,
            now,
          ]);
        }
        // The update locks the conversation, so concurrent appends number their turns one after the other.
        const touched = await client.query("UPDATE conversations SET updated_at = $1, turn_count = turn_count + $2 WHERE tenant = $3 AND user_id = $4 AND id = $5", [
          now,
          turns.length,
          owner.tenant,
          owner.user,
          conversationId,
        ]);
        if (touched.rowCount === 0) throw new ConversationNotFoundError(conversationId);
        await client.query(
          `INSERT INTO turns (conversation_id, seq, role, content, sources, prompt_tokens, completion_tokens, created_at)
           SELECT $1, coalesce((SELECT max(seq) FROM turns WHERE conversation_id = $1), 0) + n, role, content, sources::jsonb, prompt, completion, $7
           FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[]) WITH ORDINALITY AS u(role, content, sources, prompt, completion, n)`,
          [
            conversationId,
            turns.map((turn) => turn.role),
            turns.map((turn) => turn.content),
            turns.map((turn) => JSON.stringify(turn.sources)),
            turns.map((turn) => turn.promptTokens),
            turns.map((turn) => turn.completionTokens),
            now,
          ],
        );
      });
    },
    async recentTurns(owner, conversationId, limit) {
      return rows<Turn>(
        `SELECT * FROM (SELECT ${TURN} FROM turns t JOIN conversations c ON c.id = t.conversation_id
         WHERE c.tenant = $1 AND c.user_id = $2 AND t.conversation_id = $3 ORDER BY t.seq DESC LIMIT $4) AS recent ORDER BY seq`,
        [owner.tenant, owner.user, conversationId, limit],
      );
    },
    async listTurns(owner, conversationId) {
      return rows<Turn>(
        `SELECT ${TURN} FROM turns t JOIN conversations c ON c.id = t.conversation_id
         WHERE c.tenant = $1 AND c.user_id = $2 AND t.conversation_id = $3 ORDER BY t.seq`,
        [owner.tenant, owner.user, conversationId],
      );
    },
    async countActiveConversations(sinceIso) {
      return (await rows<{ n: number }>("SELECT count(*)::int AS n FROM conversations WHERE updated_at >= $1", [sinceIso]))[0]?.n ?? 0;
    },

    async putDocument(collection, document) {
      await ensureVectorIndexes(document);
      return transaction((client) => writeDocument(client, collection, document));
    },
    async listDocuments(collection) {
      return rows<KnowledgeDocument>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE collection = $1 ORDER BY source COLLATE "C"`, [collection]);
    },
    async pageDocuments(collections, limit, cursor) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      // Bytewise order ("C"), as SQLite's, so a page boundary means the same in both stores.
      const found = await rows<KnowledgeDocument>(
        `SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE collection = ANY($1)
         AND ($2::text IS NULL OR (source COLLATE "C", id) > ($2::text COLLATE "C", $3::text)) ORDER BY source COLLATE "C", id LIMIT $4`,
        [collections, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      return pageOf(found, limit, (document) => [document.source, document.id]);
    },
    async getDocument(collections, id) {
      const [row] = await rows<KnowledgeDocument>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE id = $1 AND collection = ANY($2)`, [id, collections]);
      return row;
    },
    async findDocument(collection, source) {
      const [row] = await rows<KnowledgeDocument>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE collection = $1 AND source = $2`, [collection, source]);
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
        `SELECT ${HIT}, best.score FROM (
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
    async searchVectors(collections, vector, limit) {
      const length = vector.length;
      if (!Number.isInteger(length) || length < 1) return [];
      // The same expression as the partial HNSW index of this length, so the planner can use it.
      return rows<ChunkHit>(
        `SELECT * FROM (
           SELECT ${HIT}, 1 - (c.embedding::vector(${length}) <=> $1::vector(${length})) AS score
           FROM chunks c JOIN documents d ON d.id = c.document_id
           WHERE vector_dims(c.embedding) = ${length} AND c.collection = ANY($2)
           ORDER BY c.embedding::vector(${length}) <=> $1::vector(${length}) LIMIT $3
         ) AS nearest ORDER BY score DESC`,
        [pgvector.toSql(Array.from(vector)), collections, limit],
      );
    },

    async enqueueJob(job) {
      const now = new Date().toISOString();
      const [row] = await rows<IngestionJob>(
        `INSERT INTO ingestion_jobs (id, collection, source, title, format, content_hash, bytes, content, status, run_after, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $9, $9) RETURNING ${JOB_COLUMNS}`,
        [randomUUID(), job.collection, job.source, job.title ?? null, job.format, job.contentHash, job.content.length, job.content, now],
      );
      if (row === undefined) throw new Error("the ingestion job was not stored");
      return row;
    },
    async storeJobDocument(jobId, collection, document) {
      await ensureVectorIndexes(document);
      return transaction(async (client) => {
        // Locked until the commit: a delete's cancellation of the job waits, or is seen here first.
        const [job] = (await client.query<{ status: string }>("SELECT status FROM ingestion_jobs WHERE id = $1 FOR UPDATE", [jobId])).rows;
        return job?.status === "running" ? writeDocument(client, collection, document) : undefined;
      });
    },
    async claimJob(nowIso) {
      // Tenants take turns; an older unfinished job for the same document goes first (columns.ts).
      const [row] = await rows<ClaimedJob>(
        `UPDATE ingestion_jobs SET status = 'running', attempts = attempts + 1, updated_at = $1
         WHERE seq = (
           SELECT j.seq FROM ingestion_jobs j WHERE j.run_after <= $1 AND ${UNBLOCKED_QUEUED_JOB}
           ORDER BY ${TENANT_TURN_ORDER} LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING ${JOB_COLUMNS}, content`,
        [nowIso],
      );
      return row;
    },
    async completeJob(id, { outcome, documentId, chunkCount }) {
      await pool.query(
        `UPDATE ingestion_jobs SET status = 'succeeded', content = NULL, error = NULL, outcome = $1, document_id = $2, chunk_count = $3, updated_at = $4
         WHERE id = $5 AND status = 'running'`,
        [outcome, documentId, chunkCount, new Date().toISOString(), id],
      );
    },
    async failJob(id, error, retryAtIso) {
      const now = new Date().toISOString();
      // Only a running job ends this way: one a delete cancelled meanwhile stays failed.
      if (retryAtIso === undefined) {
        await pool.query("UPDATE ingestion_jobs SET status = 'failed', content = NULL, error = $1, updated_at = $2 WHERE id = $3 AND status = 'running'", [error, now, id]);
      } else {
        await pool.query("UPDATE ingestion_jobs SET status = 'queued', error = $1, run_after = $2, updated_at = $3 WHERE id = $4 AND status = 'running'", [error, retryAtIso, now, id]);
      }
    },
    async getJob(collection, id) {
      const [row] = await rows<IngestionJob>(`SELECT ${JOB_COLUMNS} FROM ingestion_jobs WHERE collection = $1 AND id = $2`, [collection, id]);
      return row;
    },
    async listJobs(collection, limit) {
      return rows<IngestionJob>(`SELECT ${JOB_COLUMNS} FROM ingestion_jobs WHERE collection = $1 ORDER BY seq DESC LIMIT $2`, [collection, limit]);
    },
    async requeueRunningJobs(maxAttempts) {
      // Other replicas may be running jobs right now (and touch them): only those left untouched for long are taken back.
      const now = Date.now();
      return countAbandoned(
        await rows<{ status: string }>(
          `UPDATE ingestion_jobs SET ${ABANDONED_JOB_OUTCOME("$3::integer")}, updated_at = $1 WHERE status = 'running' AND updated_at < $2 RETURNING status`,
          [new Date(now).toISOString(), new Date(now - staleJobMs).toISOString(), maxAttempts],
        ),
      );
    },
    async jobFor(collection, source, contentHash, failedSinceIso) {
      const [row] = await rows<{ id: string; unfinished: boolean }>(
        `SELECT ${JOB_FOR_CONTENT.columns} FROM ingestion_jobs WHERE collection = $1 AND source = $2 AND content_hash = $3
           AND ${JOB_FOR_CONTENT.status("$4")} ${JOB_FOR_CONTENT.order}`,
        [collection, source, contentHash, failedSinceIso],
      );
      return row && { id: row.id, unfinished: row.unfinished };
    },
    async nextJobTime() {
      return (await rows<{ at: string | null }>(`SELECT min(j.run_after) AS at FROM ingestion_jobs j WHERE ${UNBLOCKED_QUEUED_JOB}`))[0]?.at ?? undefined;
    },
    async releaseJob(id) {
      await pool.query("UPDATE ingestion_jobs SET status = 'queued', attempts = attempts - 1, updated_at = $1 WHERE id = $2 AND status = 'running'", [
        new Date().toISOString(),
        id,
      ]);
    },
    async touchJob(id) {
      await pool.query("UPDATE ingestion_jobs SET updated_at = $1 WHERE id = $2 AND status = 'running'", [new Date().toISOString(), id]);
    },
    async cancelUnfinishedJobs(collection, source, reason) {
      const result = await pool.query(
        "UPDATE ingestion_jobs SET status = 'failed', content = NULL, error = $1, updated_at = $2 WHERE collection = $3 AND source = $4 AND status IN ('queued', 'running')",
        [reason, new Date().toISOString(), collection, source],
      );
      return result.rowCount ?? 0;
    },
    async pruneJobs(endedBeforeIso) {
      const result = await pool.query("DELETE FROM ingestion_jobs WHERE status IN ('succeeded', 'failed') AND updated_at < $1", [endedBeforeIso]);
      return result.rowCount ?? 0;
    },
  };
}
