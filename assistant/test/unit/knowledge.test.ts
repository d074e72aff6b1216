import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bm25Retriever, syncKnowledgeDir } from "../../src/retrieval/knowledge.js";
import { openSqliteStorage } from "../../src/storage/sqlite.js";
import type { Storage } from "../../src/storage/types.js";

describe("knowledge directory ingestion", () => {
  let root: string;
  let kb: string;
  let storage: Storage;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "assistant-kb-"));
    kb = join(root, "kb");
    mkdirSync(join(kb, "hr"), { recursive: true });
    storage = openSqliteStorage(join(root, "data"), "normal");
  });
  afterEach(async () => {
    await storage.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("indexes .md and .txt files, skips others, and re-syncs by content hash", async () => {
    writeFileSync(join(kb, "hr", "leave.md"), "# 年假\n\n员工入职满一年后享有5天带薪年假。\n");
    writeFileSync(join(kb, "vpn.txt"), "Connect to the VPN with the client.\n");
    writeFileSync(join(kb, "image.png"), "not text");
    assert.deepEqual(await syncKnowledgeDir(storage, "t", kb, 800), { added: 2, unchanged: 0, removed: 0 });
    const retriever = bm25Retriever(storage);
    assert.equal(await retriever.documentCount("t"), 2);
    const [hit] = await retriever.search("t", "年假几天", 3);
    assert.equal(hit?.source, "hr/leave.md");
    assert.equal(hit?.title, "年假");

    writeFileSync(join(kb, "vpn.txt"), "Connecting requires the new VPN client.\n");
    rmSync(join(kb, "hr", "leave.md"));
    assert.deepEqual(await syncKnowledgeDir(storage, "t", kb, 800), { added: 1, unchanged: 0, removed: 1 });
    assert.deepEqual(await syncKnowledgeDir(storage, "t", kb, 800), { added: 0, unchanged: 1, removed: 0 });
    assert.deepEqual(await retriever.search("t", "年假", 3), []);
    assert.match((await retriever.search("t", "connect vpn", 3))[0]?.text ?? "", /new VPN client/);
  });
});
