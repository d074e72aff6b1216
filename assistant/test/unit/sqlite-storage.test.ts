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
