import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { indexTerms, queryTerms } from "../../src/retrieval/text.js";
import Database from "better-sqlite3";
import { migrations, openSqliteStorage } from "../../src/storage/sqlite.js";
import { ConversationNotFoundError, InvalidCursorError, LOCAL_OWNER, type NewTurn, type Storage } from "../../src/storage/types.js";

const owner = { tenant: "t", user: "u" };
const turn = (role: "user" | "assistant", content: string): NewTurn => ({ role, content, sources: [], promptTokens: null, completionTokens: null });

const doc = (source: string, texts: string[], hash = source) => ({
  source,
  title: source,
  contentHash: hash,
  chunks: texts.map((text, ordinal) => ({ ordinal, heading: "", text, terms: indexTerms(text) })),
});

describe("SQLite storage", () => {
  let dir: string;
  let storage: Storage;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "assistant-storage-"));
    storage = openSqliteStorage(dir, "normal");
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates a conversation with its first turns and reopens it after a restart", async () => {
    await storage.appendTurns(owner, "c1", [turn("user", "hi"), turn("assistant", "hello")], "hi");
    await storage.appendTurns(owner, "c1", [turn("user", "again"), turn("assistant", "sure")]);
    await storage.close();
    storage = openSqliteStorage(dir, "full");
    const conversation = await storage.getConversation(owner, "c1");
    assert.equal(conversation?.turnCount, 4);
    assert.deepEqual((await storage.listTurns(owner, "c1")).map((t) => [t.seq, t.role, t.content]), [
      [1, "user", "hi"],
      [2, "assistant", "hello"],
      [3, "user", "again"],
      [4, "assistant", "sure"],
    ]);
    assert.deepEqual((await storage.recentTurns(owner, "c1", 2)).map((t) => t.content), ["again", "sure"]);
  });

  it("refuses turns for a conversation that does not exist", async () => {
    await assert.rejects(storage.appendTurns(owner, "missing", [turn("user", "x")]), ConversationNotFoundError);
  });

  it("keeps tenants, and users within a tenant, apart", async () => {
    await storage.appendTurns(owner, "c1", [turn("user", "secret")], "secret");
    for (const stranger of [{ tenant: "other", user: owner.user }, { tenant: owner.tenant, user: "other" }]) {
      assert.equal(await storage.getConversation(stranger, "c1"), undefined);
      assert.deepEqual(await storage.listTurns(stranger, "c1"), []);
      assert.deepEqual(await storage.recentTurns(stranger, "c1", 10), []);
      assert.equal(await storage.deleteConversation(stranger, "c1"), false);
      assert.equal((await storage.listConversations(stranger, 10, undefined)).items.length, 0);
      await assert.rejects(storage.appendTurns(stranger, "c1", [turn("user", "intrusion")]), ConversationNotFoundError);
    }
    assert.deepEqual((await storage.listTurns(owner, "c1")).map((t) => t.content), ["secret"]);
    await storage.putDocument("a", doc("a.md", ["private vacation policy"]));
    assert.deepEqual(await storage.searchChunks("b", ["vacation"], 5), []);
    assert.equal((await storage.searchChunks("a", ["vacation"], 5)).length, 1);
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

  it("pages conversations newest first with an opaque cursor", async () => {
    for (let index = 0; index < 5; index += 1) {
      await storage.appendTurns(owner, `c${index}`, [turn("user", `m${index}`)], `m${index}`);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await storage.listConversations(owner, 2, cursor);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    assert.deepEqual(seen, ["c4", "c3", "c2", "c1", "c0"]);
    await assert.rejects(storage.listConversations(owner, 2, "not-a-cursor"), InvalidCursorError);
  });

  it("deletes a conversation with its turns", async () => {
    await storage.appendTurns(owner, "c1", [turn("user", "x")], "x");
    assert.equal(await storage.deleteConversation(owner, "c1"), true);
    assert.equal(await storage.getConversation(owner, "c1"), undefined);
    assert.deepEqual(await storage.listTurns(owner, "c1"), []);
  });

  it("ranks chunks with BM25 and stems English", async () => {
    await storage.putDocument("t", doc("vpn.md", ["Connecting to the VPN requires the client.", "The cafeteria opens at noon."]));
    await storage.putDocument("t", doc("misc.md", ["VPN VPN VPN connection problems are handled by the VPN desk."]));
    const hits = await storage.searchChunks("t", queryTerms("how do I connect the vpn"), 5);
    assert.equal(hits.length, 2);
    assert.ok(hits.every((hit) => /vpn/i.test(hit.text)));
    assert.ok(hits[0] !== undefined && hits[1] !== undefined && hits[0].score >= hits[1].score);
    // "connect" finds "Connecting" and "connection" only through stemming.
    const stemmed = await storage.searchChunks("t", queryTerms("connect"), 5);
    assert.deepEqual(stemmed.map((hit) => hit.source).sort(), ["misc.md", "vpn.md"]);
  });

  it("finds Chinese words inside segmented text", async () => {
    await storage.putDocument("t", doc("hr.md", ["员工入职满一年后享有5天带薪年假。", "食堂中午十二点开放。"]));
    const hits = await storage.searchChunks("t", queryTerms("年假有几天"), 5);
    assert.equal(hits.length, 1);
    assert.match(hits[0]?.text ?? "", /年假/);
  });

  it("treats query syntax as plain words", async () => {
    await storage.putDocument("t", doc("a.md", ["alpha beta"]));
    assert.deepEqual(await storage.searchChunks("t", ['"', "NEAR(", "*", "alpha OR"], 5), []);
  });

  it("replaces a changed document atomically and skips an unchanged one", async () => {
    const first = await storage.putDocument("t", doc("a.md", ["old words"], "h1"));
    assert.equal(first.changed, true);
    assert.equal((await storage.putDocument("t", doc("a.md", ["old words"], "h1"))).changed, false);
    const second = await storage.putDocument("t", doc("a.md", ["new words"], "h2"));
    assert.equal(second.changed, true);
    assert.deepEqual(await storage.searchChunks("t", ["old"], 5), []);
    assert.equal((await storage.searchChunks("t", ["new"], 5)).length, 1);
    assert.equal((await storage.listDocuments("t")).length, 1);
    assert.equal(await storage.countDocuments("t"), 1);
    assert.equal(await storage.countDocuments("other"), 0);
    assert.equal(await storage.deleteDocument("t", second.id), true);
    assert.deepEqual(await storage.searchChunks("t", ["new"], 5), []);
  });
});
