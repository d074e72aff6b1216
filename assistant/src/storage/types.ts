/**
 * The storage contract. Every method is async and takes the owner (conversations) or the tenant
 * (knowledge), so a Postgres store (issue 6) can implement the same interface and no query can ever
 * cross tenants or users.
 */
export type Role = "user" | "assistant";

/** Whose a conversation is: only a caller with the same tenant and user can see it. */
export interface Owner {
  tenant: string;
  user: string;
}

/** The one owner when auth is off; conversations stored before owners existed belong to it. */
export const LOCAL_OWNER: Readonly<Owner> = { tenant: "default", user: "local" };

export interface SourceRef {
  index: number;
  documentId: string;
  title: string;
  /** The heading of the section the passage comes from (empty when none). */
  section: string;
  source: string;
  chunkId: string;
  score: number;
  excerpt: string;
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  turnCount: number;
}

export interface Turn {
  seq: number;
  role: Role;
  content: string;
  createdAt: string;
  sources: SourceRef[];
  promptTokens: number | null;
  completionTokens: number | null;
}

export type NewTurn = Omit<Turn, "seq" | "createdAt">;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ChunkInput {
  ordinal: number;
  heading: string;
  text: string;
  /** The text as search terms (segmented, lower-cased, space-joined) for the full-text index. */
  terms: string;
}

export interface DocumentInput {
  source: string;
  title: string;
  contentHash: string;
  chunks: ChunkInput[];
}

export interface KnowledgeDocument {
  id: string;
  source: string;
  title: string;
  contentHash: string;
  chunkCount: number;
  updatedAt: string;
}

export interface ChunkHit {
  chunkId: string;
  documentId: string;
  title: string;
  source: string;
  heading: string;
  text: string;
  /** Higher is better (negated BM25). */
  score: number;
}

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
  /** The newest `limit` turns, oldest first. */
  recentTurns(owner: Owner, conversationId: string, limit: number): Promise<Turn[]>;
  listTurns(owner: Owner, conversationId: string): Promise<Turn[]>;
  countActiveConversations(sinceIso: string): Promise<number>;
}

export interface KnowledgeStore {
  /** Inserts or replaces a document and all its chunks atomically; unchanged content is left alone. */
  putDocument(tenant: string, document: DocumentInput): Promise<{ id: string; changed: boolean }>;
  listDocuments(tenant: string): Promise<KnowledgeDocument[]>;
  countDocuments(tenant: string): Promise<number>;
  deleteDocument(tenant: string, id: string): Promise<boolean>;
  /** BM25 search over chunk terms; `terms` are already-normalised search terms. */
  searchChunks(tenant: string, terms: string[], limit: number): Promise<ChunkHit[]>;
}

export interface Storage extends ConversationStore, KnowledgeStore {
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class ConversationNotFoundError extends Error {
  override readonly name = "ConversationNotFoundError";
}

export class InvalidCursorError extends Error {
  override readonly name = "InvalidCursorError";
}
