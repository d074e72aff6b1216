import { decodeCursor, pageOf } from "../cursor.js";
import { conversationSql } from "../sql/conversations.js";
import { ConversationNotFoundError, type Conversation, type ConversationStore, type Turn, type TurnMessage } from "../types.js";
import type { PostgresDatabase } from "./database.js";
import { numbered } from "./numbered.js";

const sql = {
  get: numbered(conversationSql.get),
  delete: numbered(conversationSql.delete),
  touch: numbered(conversationSql.touch),
  listTurns: numbered(conversationSql.listTurns),
};

/** Conversations and their turns in Postgres. */
export function postgresConversations({ pool, rows, transaction }: PostgresDatabase): ConversationStore {
  return {
    async getConversation(owner, id) {
      const [row] = await rows<Conversation>(sql.get, [owner.tenant, owner.user, id]);
      return row;
    },
    async listConversations(owner, limit, cursor) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const found = await rows<Conversation>(
        `SELECT ${conversationSql.columns} FROM conversations WHERE tenant = $1 AND user_id = $2
         AND ($3::text IS NULL OR (updated_at, id) < ($3, $4)) ORDER BY updated_at DESC, id DESC LIMIT $5`,
        [owner.tenant, owner.user, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      return pageOf(found, limit, (conversation) => [conversation.updatedAt, conversation.id]);
    },
    async deleteConversation(owner, id) {
      return ((await pool.query(sql.delete, [owner.tenant, owner.user, id])).rowCount ?? 0) > 0;
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
        const touched = await client.query(sql.touch, [now, turns.length, owner.tenant, owner.user, conversationId]);
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
      // Without the sources: a history of a hundred turns would carry, and parse, fifty answers' citations.
      return rows<TurnMessage>(
        `SELECT role, content FROM (SELECT t.seq, t.role, t.content FROM turns t JOIN conversations c ON c.id = t.conversation_id
         WHERE c.tenant = $1 AND c.user_id = $2 AND t.conversation_id = $3 ORDER BY t.seq DESC LIMIT $4) AS recent ORDER BY seq`,
        [owner.tenant, owner.user, conversationId, limit],
      );
    },
    async listTurns(owner, conversationId) {
      return rows<Turn>(sql.listTurns, [owner.tenant, owner.user, conversationId]);
    },
    async countActiveConversations(sinceIso) {
      return (await rows<{ n: number }>("SELECT count(*)::int AS n FROM conversations WHERE updated_at >= $1", [sinceIso]))[0]?.n ?? 0;
    },
  };
}
