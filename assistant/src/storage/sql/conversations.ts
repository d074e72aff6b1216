/**
 * Conversation SQL both stores run as written, with `?` for each parameter (Postgres numbers them,
 * see postgres/numbered.ts). Columns are aliased to the contract's field names, so a row is already
 * a Conversation or (but for SQLite's sources, which are JSON text) a Turn.
 */
const CONVERSATION_COLUMNS = `id, title, created_at AS "createdAt", updated_at AS "updatedAt", turn_count AS "turnCount"`;
const TURN_COLUMNS = `t.seq, t.role, t.content, t.sources, t.prompt_tokens AS "promptTokens", t.completion_tokens AS "completionTokens", t.created_at AS "createdAt"`;

export const conversationSql = {
  columns: CONVERSATION_COLUMNS,
  get: `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE tenant = ? AND user_id = ? AND id = ?`,
  delete: "DELETE FROM conversations WHERE tenant = ? AND user_id = ? AND id = ?",
  /** Counts the appended turns; in Postgres the update also locks the conversation, so concurrent appends number their turns one after the other. */
  touch: "UPDATE conversations SET updated_at = ?, turn_count = turn_count + ? WHERE tenant = ? AND user_id = ? AND id = ?",
  listTurns: `SELECT ${TURN_COLUMNS} FROM turns t JOIN conversations c ON c.id = t.conversation_id
    WHERE c.tenant = ? AND c.user_id = ? AND t.conversation_id = ? ORDER BY t.seq`,
} as const;
