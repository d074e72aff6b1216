import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { groupCommit } from "../../src/storage/group-commit.js";
import { DATABASE_FILE, openSqliteStorage } from "../../src/storage/sqlite.js";
import { ConversationNotFoundError, type NewTurn } from "../../src/storage/types.js";

const turn = (content: string): NewTurn => ({ role: "user", content, sources: [], promptTokens: null, completionTokens: null });

describe("group commit", () => {
  it("commits the writes of one event-loop turn together and settles each with its own outcome", async () => {
    const batches: number[][] = [];
    const writer = groupCommit<number>((items) => {
      batches.push([...items]);
      return items.map((item) => (item === 3 ? new Error("three") : undefined));
    });
    const first = [1, 2, 3, 4].map((item) => writer.write(item));
    const outcomes = await Promise.allSettled(first);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled"],
    );
    await writer.write(5);
    assert.deepEqual(batches, [[1, 2, 3, 4], [5]]);
  });

  it("acknowledges nothing of a batch whose commit failed", async () => {
    const writer = groupCommit<number>(() => {
      throw new Error("disk full");
    });
    const outcomes = await Promise.allSettled([writer.write(1), writer.write(2)]);
    assert.deepEqual(
      outcomes.map((outcome) => (outcome.status === "rejected" ? (outcome.reason as Error).message : "fulfilled")),
      ["disk full", "disk full"],
    );
  });

  it("lets one failed append of a batch undo only itself in SQLite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "assistant-group-commit-"));
    const storage = openSqliteStorage(dir, "normal");
    const owner = { tenant: "t", user: "u" };
    try {
      await storage.appendTurns(owner, "old", [turn("first")], "first");
      const outcomes = await Promise.allSettled([
        storage.appendTurns(owner, "old", [turn("second")]),
        storage.appendTurns(owner, "missing", [turn("lost")]),
        storage.appendTurns(owner, "new", [turn("hello"), turn("again")], "hello"),
      ]);
      assert.equal(outcomes[0]?.status, "fulfilled");
      assert.ok(outcomes[1]?.status === "rejected" && outcomes[1].reason instanceof ConversationNotFoundError);
      assert.equal(outcomes[2]?.status, "fulfilled");
      // What another connection reads is what was committed.
      const reader = new Database(join(dir, DATABASE_FILE), { readonly: true });
      try {
        const stored = reader.prepare<[], { conversation_id: string; seq: number; content: string }>(
          "SELECT conversation_id, seq, content FROM turns ORDER BY conversation_id, seq",
        );
        assert.deepEqual(stored.all(), [
          { conversation_id: "new", seq: 1, content: "hello" },
          { conversation_id: "new", seq: 2, content: "again" },
          { conversation_id: "old", seq: 1, content: "first" },
          { conversation_id: "old", seq: 2, content: "second" },
        ]);
      } finally {
        reader.close();
      }
    } finally {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
