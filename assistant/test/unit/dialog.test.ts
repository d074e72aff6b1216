import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DialogManager, systemMessage, trimHistory } from "../../src/dialog/dialog.js";
import { detectIntent } from "../../src/dialog/intent.js";
import { extractiveAnswer, extractiveProvider } from "../../src/llm/extractive.js";
import { createMasker, type Masker } from "../../src/masking/mask.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { bm25Retriever, type Passage } from "../../src/retrieval/knowledge.js";
import { indexTerms } from "../../src/retrieval/text.js";
import { openSqliteStorage } from "../../src/storage/sqlite.js";
import type { Storage } from "../../src/storage/types.js";

const passage = (text: string, heading = ""): Passage => ({
  chunkId: "1",
  documentId: "d",
  collection: "assistant",
  title: "Handbook",
  source: "handbook.md",
  heading,
  text,
  score: 1,
});

describe("intent", () => {
  for (const message of ["你好", "你好,请问能帮我什么?", "您好！你是谁？", "hello", "Hi there!", "What can you do?", "how can you help me", "help"]) {
    it(`treats "${message}" as a capabilities question`, () => {
      assert.equal(detectIntent(message), "capabilities");
    });
  }
  for (const message of ["你好，年假有几天？", "Hello, how do I connect to the VPN?", "How can you help me reset my password?", "年假怎么申请"]) {
    it(`treats "${message}" as a knowledge question`, () => {
      assert.equal(detectIntent(message), "question");
    });
  }
});

describe("extractive answers", () => {
  const base = { intent: "question" as const, documentCount: 3 };

  it("quotes the best matching sentences with numbered citations", () => {
    const answer = extractiveAnswer({
      ...base,
      language: "en",
      question: "How do I connect to the VPN?",
      passages: [passage("Lunch is at noon. To connect to the VPN, install the client. Parking is free."), passage("The VPN server is vpn.example.com.")],
    });
    assert.equal(answer, "According to the knowledge base:\n\nTo connect to the VPN, install the client. [1]\n\nThe VPN server is vpn.example.com. [2]");
  });

  it("answers in Chinese with Chinese framing", () => {
    const answer = extractiveAnswer({
      ...base,
      language: "zh",
      question: "年假有几天？",
      passages: [passage("员工入职满一年后享有5天带薪年假。食堂中午开放。")],
    });
    assert.equal(answer, "根据知识库：\n\n员工入职满一年后享有5天带薪年假。 [1]");
  });

  it("says honestly when nothing relevant was found", () => {
    assert.match(extractiveAnswer({ ...base, language: "en", question: "weather on Mars?", passages: [] }), /could not find this in the knowledge base/);
    assert.match(extractiveAnswer({ ...base, language: "zh", question: "火星天气？", passages: [passage("Parking is free.")] }), /没有找到/);
  });

  it("describes its capabilities, including how many documents it knows", () => {
    const zh = extractiveAnswer({ ...base, intent: "capabilities", language: "zh", question: "你好", passages: [] });
    assert.match(zh, /3 篇文档/);
    assert.match(zh, /不会编造/);
    const en = extractiveAnswer({ ...base, intent: "capabilities", documentCount: 0, language: "en", question: "hello", passages: [] });
    assert.match(en, /no documents are loaded yet/);
  });
});

describe("prompt assembly", () => {
  it("keeps the newest history that fits the token budget", () => {
    const history = [
      { role: "user" as const, content: "a".repeat(400) },
      { role: "assistant" as const, content: "b".repeat(40) },
      { role: "user" as const, content: "c".repeat(40) },
    ];
    assert.deepEqual(trimHistory(history, 25), history.slice(1));
    assert.deepEqual(trimHistory(history, 5), []);
    assert.deepEqual(trimHistory(history, 1000), history);
  });

  it("numbers the passages and states the reply language", () => {
    const text = systemMessage("SYSTEM", [passage("alpha", "Intro"), passage("beta")], "zh");
    assert.ok(text.startsWith("SYSTEM\n\n"));
    assert.match(text, /reply in Chinese/);
    assert.match(text, /\[1\] Handbook — Intro\nalpha/);
    assert.match(text, /\[2\] Handbook\nbeta/);
  });
});

/** A dialog over a fresh SQLite store holding one document, the extractive model answering. */
async function withDialog(text: string, masker: Masker, use: (dialog: DialogManager, storage: Storage) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "assistant-dialog-"));
  const storage = openSqliteStorage(dir, "normal");
  try {
    await storage.putDocument("assistant", { source: "staff.md", title: "Staff", contentHash: "h", chunks: [{ ordinal: 0, heading: "", text, terms: indexTerms(text) }] });
    const dialog = new DialogManager({
      conversations: storage,
      retriever: bm25Retriever(storage),
      provider: extractiveProvider(),
      metrics: createMetrics(() => Promise.resolve(0)),
      masker,
      options: { systemPrompt: "You answer from the handbook.", topK: 3, historyTokens: 1000, modelSeesOriginal: false },
    });
    await use(dialog, storage);
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("a chat turn", () => {
  const owner = { tenant: "acme", user: "alice" };

  it("lets the in-process model match the message as written, while the prompt and history hold it masked", async () => {
    const masker = createMasker("mask", [{ name: "employee", pattern: "EMP-\\d{6}", flags: "" }]);
    await withDialog("Employee EMP-204811 works in Building 7. The canteen opens at noon.", masker, async (dialog, storage) => {
      const result = await dialog.chat(owner, "Where is EMP-204811?", undefined, new AbortController().signal);
      assert.match(result.reply, /Building 7/);
      const turns = await storage.listTurns(owner, result.conversationId);
      assert.equal(turns[0]?.content, "Where is **********?");
      assert.ok(!turns.some((turn) => turn.content.includes("EMP-204811")));
    });
  });

  it("titles a new conversation with the first 80 graphemes of the message, never half of one", async () => {
    await withDialog("The canteen opens at noon.", createMasker("mask", []), async (dialog, storage) => {
      const family = "👨‍👩‍👧";
      const result = await dialog.chat(owner, `  ${family.repeat(100)} when does the canteen open?`, undefined, new AbortController().signal);
      assert.equal((await storage.getConversation(owner, result.conversationId))?.title, family.repeat(80));
    });
  });
});
