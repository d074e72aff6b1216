/**
 * The storage contract. Every method is async and takes the owner (conversations) or the tenant
 * (knowledge), so a Postgres store (issue 6) can implement the same interface and no query can ever
 * cross tenants or users.
 */
export type Role = "user" | "assistant";

// The records an HTTP answer carries are type aliases rather than interfaces: a route's response
// schema is its type (http/routes/), an object open to more properties, which TypeScript lets an
// alias stand for but not an interface.

/** Whose a conversation is: only a caller with the same tenant and user can see it. */
export interface Owner {
  tenant: string;
  user: string;
}

/** The one owner when auth is off; conversations stored before owners existed belong to it. */
export const LOCAL_OWNER: Readonly<Owner> = { tenant: "default", user: "local" };

export type SourceRef = {
  index: number;
  documentId: string;
  title: string;
  /** The heading of the section the passage comes from (empty when none). */
  section: string;
  source: string;
  chunkId: string;
  score: number;
  excerpt: string;
};

export type Conversation = {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  turnCount: number;
};

export type Turn = {
  seq: number;
  role: Role;
  content: string;
  createdAt: string;
  sources: SourceRef[];
  promptTokens: number | null;
  completionTokens: number | null;
};

export type NewTurn = Omit<Turn, "seq" | "createdAt">;

/** A turn as a message of a conversation's history. */
export type TurnMessage = Pick<Turn, "role" | "content">;

export type Page<T> = {
  items: T[];
  nextCursor: string | null;
};

export interface ChunkInput {
  ordinal: number;
  heading: string;
  text: string;
  /** The text as search terms (segmented, lower-cased, space-joined) for the full-text index. */
  terms: string;
  /** The chunk's embedding, when an embeddings endpoint is configured. */
  embedding?: Float32Array;
}

export interface DocumentInput {
  source: string;
  title: string;
  contentHash: string;
  chunks: ChunkInput[];
}

/**
 * Knowledge lives in collections: the retrieval layer decides which collection a document belongs
 * to and which collections a caller may read (see retrieval/collections.ts). The store only ever
 * reads and writes the collections it is given.
 */
export type KnowledgeDocument = {
  id: string;
  collection: string;
  source: string;
  title: string;
  contentHash: string;
  chunkCount: number;
  /** 1 for the first content, one more each time new content replaces the chunks. */
  version: number;
  updatedAt: string;
};

export interface ChunkHit {
  chunkId: string;
  documentId: string;
  collection: string;
  title: string;
  source: string;
  heading: string;
  text: string;
  /** Higher is better: negated BM25 from searchChunks, cosine similarity from searchVectors. */
  score: number;
}

export type JobStatus = "queued" | "running" | "succeeded" | "failed";

/** What a finished job did: indexed new content, or found the same content already indexed. */
export type JobOutcome = "indexed" | "unchanged";

export interface NewIngestionJob {
  collection: string;
  source: string;
  /** The title the uploader gave; else one is derived from the content. */
  title?: string;
  format: string;
  contentHash: string;
  content: Buffer;
}

export type IngestionJob = {
  id: string;
  collection: string;
  source: string;
  title: string | null;
  format: string;
  contentHash: string;
  bytes: number;
  status: JobStatus;
  attempts: number;
  /** Why the last attempt failed (kept while a retry is pending, and for a failed job). */
  error: string | null;
  outcome: JobOutcome | null;
  documentId: string | null;
  chunkCount: number | null;
  createdAt: string;
  updatedAt: string;
};

/** A job taken off the queue to be worked on, with the upload it carries. */
export type ClaimedJob = IngestionJob & {
  content: Buffer;
};

export interface ConversationStore {
  getConversation(owner: Owner, id: string): Promise<Conversation | undefined>;
  listConversations(owner: Owner, limit: number, cursor: string | undefined): Promise<Page<Conversation>>;
  deleteConversation(owner: Owner, id: string): Promise<boolean>;
  /**
   * Appends turns in one durable transaction: once this resolves, the turns survive a crash. With
   * `newTitle` the conversation is created in the same transaction, so a failed first answer leaves
   * no empty conversation behind. Rejects with ConversationNotFoundError when the owner has no such
   * conversation.
   */
  appendTurns(owner: Owner, conversationId: string, turns: NewTurn[], newTitle?: string): Promise<void>;
  /**
   * The newest `limit` turns as messages, oldest first: what a model's history needs, without the
   * sources. None when the owner has no such conversation.
   */
  recentTurns(owner: Owner, conversationId: string, limit: number): Promise<TurnMessage[]>;
  listTurns(owner: Owner, conversationId: string): Promise<Turn[]>;
  countActiveConversations(sinceIso: string): Promise<number>;
}

export interface KnowledgeStore {
  /**
   * Inserts a document, or replaces the chunks of the one with the same collection and source in one
   * transaction (keeping its id, counting its version up); unchanged content is left alone.
   */
  putDocument(collection: string, document: DocumentInput): Promise<{ id: string; changed: boolean }>;
  /** Every document of one collection, by source (for syncing a source list against it). */
  listDocuments(collection: string): Promise<KnowledgeDocument[]>;
  /** A page of the documents in the given collections, by source then id (bytewise); the cursor is the previous page's. */
  pageDocuments(collections: readonly string[], limit: number, cursor: string | undefined): Promise<Page<KnowledgeDocument>>;
  getDocument(collections: readonly string[], id: string): Promise<KnowledgeDocument | undefined>;
  findDocument(collection: string, source: string): Promise<KnowledgeDocument | undefined>;
  countDocuments(collections: readonly string[]): Promise<number>;
  deleteDocument(collection: string, id: string): Promise<boolean>;
  /** BM25 search over chunk terms in the given collections; `terms` are already-normalised search terms. */
  searchChunks(collections: readonly string[], terms: string[], limit: number): Promise<ChunkHit[]>;
  /** How often the search terms occur in the given collections, for weighing them (IDF). */
  termFrequencies(collections: readonly string[], terms: readonly string[]): Promise<TermFrequencies>;
  /** The chunks whose embeddings are nearest to `vector` (cosine) in the given collections. */
  searchVectors(collections: readonly string[], vector: Float32Array, limit: number): Promise<ChunkHit[]>;
}

/**
 * The chunks of some collections, and in how many of them each search term occurs (null: the index
 * makes nothing of the term, so it can neither match nor weigh anything).
 */
export interface TermFrequencies {
  chunks: number;
  frequencies: (number | null)[];
}

/** The durable queue of ingestion work: jobs outlive restarts, their uploads until they end. */
export interface IngestionJobStore {
  enqueueJob(job: NewIngestionJob): Promise<IngestionJob>;
  /** Marks the oldest queued job whose retry time has come as running and returns it. */
  claimJob(nowIso: string): Promise<ClaimedJob | undefined>;
  /**
   * Stores what job `jobId` made of its document (as putDocument does), in one transaction with a
   * check that the job is still running; undefined, storing nothing, when it is not (a delete of the
   * document cancelled it meanwhile).
   */
  storeJobDocument(jobId: string, collection: string, document: DocumentInput): Promise<{ id: string; changed: boolean } | undefined>;
  /** The job ended well; its upload is dropped. */
  completeJob(id: string, result: { outcome: JobOutcome; documentId: string; chunkCount: number }): Promise<void>;
  /** The attempt failed: queued again after `retryAtIso`, or failed for good (upload dropped) without one. */
  failJob(id: string, error: string, retryAtIso?: string): Promise<void>;
  getJob(collection: string, id: string): Promise<IngestionJob | undefined>;
  listJobs(collection: string, limit: number): Promise<IngestionJob[]>;
  /**
   * Jobs left running by a process that stopped: the cut-short run counts as an attempt (the document
   * may be what stopped it), so one with `maxAttempts` used fails for good, saying so; the others go
   * back on the queue. Returns how many of each.
   */
  requeueRunningJobs(maxAttempts: number): Promise<{ requeued: number; failed: number }>;
  /** A running job this process stops working on goes back on the queue, the attempt not counted. */
  releaseJob(id: string): Promise<void>;
  /** Marks a running job as still being worked on, so other replicas never take it for abandoned. */
  touchJob(id: string): Promise<void>;
  /**
   * Fails the unfinished (queued or running) jobs of a document that was deleted, so none brings it
   * back: a running one then stores nothing (storeJobDocument). Returns how many.
   */
  cancelUnfinishedJobs(collection: string, source: string, reason: string): Promise<number>;
  /**
   * The job of this content of a document that makes a re-sync leave it be: one being ingested already
   * (queued or running, by this replica or another), else one that failed after running (not a
   * cancellation) at or after `failedSinceIso`.
   */
  jobFor(collection: string, source: string, contentHash: string, failedSinceIso: string): Promise<{ id: string; unfinished: boolean } | undefined>;
  /** When the soonest queued job not waiting behind an older unfinished job of its document may run, if any. */
  nextJobTime(): Promise<string | undefined>;
  /** Deletes the jobs that ended (succeeded or failed) before `endedBeforeIso`; returns how many. */
  pruneJobs(endedBeforeIso: string): Promise<number>;
}

export interface Storage extends ConversationStore, KnowledgeStore, IngestionJobStore {
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class ConversationNotFoundError extends Error {
  override readonly name = "ConversationNotFoundError";
}

export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
}
