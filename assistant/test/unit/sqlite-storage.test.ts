import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { migrations, openSqliteStorage } from "../../src/storage/sqlite.js";
import { LOCAL_OWNER } from "../../src/storage/types.js";
import { describeStoreContract } from "../support/store-contract.js";

describeStoreContract("SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "assistant-storage-"));
  let storage = openSqliteStorage(dir, "normal");
  return Promise.resolve({
    storage,
    async reopen() {
      await storage.close();
      storage = openSqliteStorage(dir, "full");
      return storage;
    },
    async dispose() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});

describe("SQLite storage", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "assistant-storage-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives conversations stored before owners existed to the local owner", async () => {
    const legacy = join(dir, "legacy");
    mkdirSync(legacy);
    const db = new Database(join(legacy, "assistant.db"));
    db.exec(migrations[0] ?? "");
    db.pragma("user_version = 1");
    db.prepare("INSERT INTO conversations (id, tenant, title, created_at, updated_at, turn_count) VALUES ('old', 'default', 'before auth', '2025-01-01', '2025-01-01', 0)").run();
    db.close();
    const migrated = openSqliteStorage(legacy, "normal");
    assert.equal((await migrated.getConversation(LOCAL_OWNER, "old"))?.title, "before auth");
    assert.equal(await migrated.getConversation({ tenant: "default", user: "someone" }, "old"), undefined);
    await migrated.close();
  });

  it("moves the documents ingested before collections existed into the assistant's collection", async () => {
    const legacy = join(dir, "legacy-kb");
    mkdirSync(legacy);
    const db = new Database(join(legacy, "assistant.db"));
    db.exec(`${migrations[0] ?? ""}${migrations[1] ?? ""}`);
    db.pragma("user_version = 2");
    db.prepare("INSERT INTO documents (id, tenant, source, title, content_hash, chunk_count, updated_at) VALUES ('d1', 'default', 'a.md', 'A', 'h', 1, '2025-01-01')").run();
    const { lastInsertRowid } = db.prepare("INSERT INTO chunks (document_id, tenant, ordinal, heading, text) VALUES ('d1', 'default', 0, '', 'legacy words')").run();
    db.prepare("INSERT INTO chunks_fts (rowid, terms) VALUES (?, 'legacy words')").run(lastInsertRowid);
    db.close();
    const migrated = openSqliteStorage(legacy, "normal");
    assert.deepEqual((await migrated.searchChunks(["assistant"], ["legacy"], 5)).map((hit) => hit.documentId), ["d1"]);
    assert.equal((await migrated.getDocument(["assistant"], "d1"))?.version, 1);
    await migrated.close();
  });

  it("moves stored turns into the rowid table whole and in order, and goes on numbering them", async () => {
    const legacy = join(dir, "legacy-turns");
    mkdirSync(legacy);
    const db = new Database(join(legacy, "assistant.db"));
    db.exec(migrations.slice(0, -1).join(""));
    db.pragma(`user_version = ${migrations.length - 1}`);
    const owner = { tenant: "acme", user: "ana" };
    db.prepare("INSERT INTO conversations (id, tenant, user_id, title, created_at, updated_at, turn_count) VALUES ('c1', 'acme', 'ana', 'Leave', '2025-01-01', '2025-01-01', 2)").run();
    // Sources far past the quarter page a WITHOUT ROWID cell keeps: the rows that spilled to overflow pages.
    const sources = JSON.stringify(Array.from({ length: 5 }, (_, index) => ({ index: index + 1, excerpt: "年假".repeat(400) })));
    const insertTurn = db.prepare(
      "INSERT INTO turns (conversation_id, seq, role, content, sources, prompt_tokens, completion_tokens, created_at) VALUES ('c1', ?, ?, ?, ?, ?, ?, '2025-01-01')",
    );
    insertTurn.run(2, "assistant", "二十天 [1]", sources, 900, 12);
    insertTurn.run(1, "user", "年假有几天？", "[]", null, null);
    db.close();

    const migrated = openSqliteStorage(legacy, "normal");
    const turns = await migrated.listTurns(owner, "c1");
    assert.deepEqual(
      turns.map(({ seq, role, content, promptTokens }) => ({ seq, role, content, promptTokens })),
      [
        { seq: 1, role: "user", content: "年假有几天？", promptTokens: null },
        { seq: 2, role: "assistant", content: "二十天 [1]", promptTokens: 900 },
      ],
    );
    assert.equal(JSON.stringify(turns[1]?.sources), sources);
    await migrated.appendTurns(owner, "c1", [{ role: "user", content: "病假呢？", sources: [], promptTokens: null, completionTokens: null }], undefined);
    assert.deepEqual(
      (await migrated.recentTurns(owner, "c1", 2)).map((turn) => turn.content),
      ["二十天 [1]", "病假呢？"],
    );
    assert.equal(await migrated.deleteConversation(owner, "c1"), true);
    await migrated.close();

    const reopened = new Database(join(legacy, "assistant.db"), { readonly: true });
    try {
      assert.deepEqual(reopened.prepare("SELECT count(*) AS n FROM turns").get(), { n: 0 }, "the conversation's turns went with it");
      const table = reopened.prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'turns'").get()?.sql ?? "";
      assert.doesNotMatch(table, /WITHOUT ROWID/);
      assert.deepEqual(reopened.prepare("SELECT name, \"unique\" FROM pragma_index_list('turns') WHERE origin = 'c'").all(), [{ name: "turns_by_conversation", unique: 1 }]);
    } finally {
      reopened.close();
    }
  });

  it("checkpoints the WAL into the database file in the background, while the service's connection does not", async () => {
    const storage = openSqliteStorage(dir, "normal");
    try {
      const file = join(dir, "assistant.db");
      const before = statSync(file).size;
      const turn = (role: "user" | "assistant", content: string) => ({ role, content, sources: [], promptTokens: null, completionTokens: null });
      // Enough for a few hundred pages of WAL: far below the service connection's own threshold.
      for (let index = 0; index < 200; index += 1) {
        await storage.appendTurns(LOCAL_OWNER, `c${index}`, [turn("user", "x".repeat(2000)), turn("assistant", "y".repeat(2000))], `title ${index}`);
      }
      // Only a checkpoint writes pages into the database file; wait for the worker's.
      while (statSync(file).size <= before) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await storage.close();
    }
  });
});
