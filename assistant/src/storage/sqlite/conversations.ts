import type { Database } from "better-sqlite3";
import { conversationSql } from "../sql/conversations.js";
import { decodeCursor, pageOf } from "../cursor.js";
import { groupCommit } from "../group-commit.js";
import { HistoryCache } from "../history-cache.js";
import { ConversationNotFoundError, type Conversation, type ConversationStore, type NewTurn, type Owner, type SourceRef, type Turn, type TurnMessage } from "../types.js";
import { settle } from "./settle.js";

interface TurnsAppend {
  owner: Owner;
  conversationId: string;
  turns: NewTurn[];
  newTitle: string | undefined;
}

export interface SqliteConversations {
  store: ConversationStore;
  /** Commits the turns waiting for the next group commit, before the database closes. */
  flush(): void;
}

/** As many turns as a chat's history asks for. */
const HELD_TURNS = 100;
/** At most about 4 MiB of heap: a thousand conversations of a dozen turns, or the service's RSS grows with them. */
const HELD_BYTES = 4 * 1024 * 1024;

/** Conversations and their turns in the embedded database. */
export function sqliteConversations(db: Database): SqliteConversations {
  const statements = {
    insertConversation: db.prepare(
      "INSERT INTO conversations (id, tenant, user_id, title, created_at, updated_at, turn_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    getConversation: db.prepare<[string, string, string], Conversation>(conversationSql.get),
    firstPage: db.prepare<[string, string, number], Conversation>(
      `SELECT ${conversationSql.columns} FROM conversations
       WHERE tenant = ? AND user_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?`,
    ),
    nextPage: db.prepare<[string, string, string, string, string, number], Conversation>(
      `SELECT ${conversationSql.columns} FROM conversations
       WHERE tenant = ? AND user_id = ? AND (updated_at < ? OR (updated_at = ? AND id < ?))
       ORDER BY updated_at DESC, id DESC LIMIT ?`,
    ),
    deleteConversation: db.prepare(conversationSql.delete),
    lastSeq: db.prepare<[string], { seq: number | null }>("SELECT max(seq) AS seq FROM turns WHERE conversation_id = ?"),
    insertTurn: db.prepare(
      `INSERT INTO turns (conversation_id, seq, role, content, sources, prompt_tokens, completion_tokens, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    touchConversation: db.prepare(conversationSql.touch),
    // Newest first along the primary key, without the sources, which are big and spill to overflow pages.
    recentTurns: db.prepare<[string, string, string, number], TurnMessage>(
      `SELECT t.role, t.content FROM turns t JOIN conversations c ON c.id = t.conversation_id
       WHERE c.tenant = ? AND c.user_id = ? AND t.conversation_id = ? ORDER BY t.seq DESC LIMIT ?`,
    ),
    listTurns: db.prepare<[string, string, string], Omit<Turn, "sources"> & { sources: string }>(conversationSql.listTurns),
    countActive: db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM conversations WHERE updated_at >= ?"),
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
  const commitAppends = db.transaction((appends: readonly TurnsAppend[]) =>
    appends.map((append) => {
      try {
        appendTurns(append);
        return undefined;
      } catch (error) {
        return error;
      }
    }),
  );
  const histories = new HistoryCache(HELD_TURNS, HELD_BYTES);
  const turnWriter = groupCommit((appends: readonly TurnsAppend[]) => {
    const outcomes = commitAppends(appends);
    appends.forEach(({ owner, conversationId, turns, newTitle }, index) => {
      if (outcomes[index] === undefined) histories.appended(owner, conversationId, turns, newTitle !== undefined);
    });
    return outcomes;
  });

  return {
    flush: () => {
      turnWriter.flush();
    },
    store: {
      getConversation(owner, id) {
        return settle(() => statements.getConversation.get(owner.tenant, owner.user, id));
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
          return pageOf(rows, limit, (row) => [row.updatedAt, row.id]);
        });
      },
      deleteConversation(owner, id) {
        return settle(() => {
          const deleted = statements.deleteConversation.run(owner.tenant, owner.user, id).changes > 0;
          if (deleted) histories.forget(id);
          return deleted;
        });
      },
      appendTurns(owner, conversationId, turns, newTitle) {
        return turnWriter.write({ owner, conversationId, turns, newTitle });
      },
      recentTurns(owner, conversationId, limit) {
        return settle(() => {
          const held = histories.recent(owner, conversationId, limit);
          if (held !== undefined) return held;
          const turns = statements.recentTurns.all(owner.tenant, owner.user, conversationId, limit).reverse();
          histories.remember(owner, conversationId, turns, limit);
          return turns;
        });
      },
      listTurns(owner, conversationId) {
        return settle(() =>
          statements.listTurns.all(owner.tenant, owner.user, conversationId).map((row) => ({ ...row, sources: JSON.parse(row.sources) as SourceRef[] })),
        );
      },
      countActiveConversations(sinceIso) {
        return settle(() => statements.countActive.get(sinceIso)?.n ?? 0);
      },
    },
  };
}
