import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildConfig } from "../../src/config/load.js";
import { DialogManager, promptMessages, trimHistory } from "../../src/dialog/dialog.js";
import { detectIntent } from "../../src/dialog/intent.js";
import { extractiveAnswer, extractiveProvider } from "../../src/llm/extractive.js";
import { openaiProvider } from "../../src/llm/openai.js";
import type { ChatMessage, ModelProvider } from "../../src/llm/types.js";
import { createMasker, type Masker } from "../../src/masking/mask.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { bm25Retriever, type Passage } from "../../src/retrieval/knowledge.js";
import { indexTerms } from "../../src/retrieval/text.js";
import { openSqliteStorage } from "../../src/storage/sqlite.js";
import { ConversationNotFoundError, type ConversationStore, type Storage } from "../../src/storage/types.js";
import { heldReply, startFakeOpenAI } from "../support/fake-openai.js";
import { collectGarbage } from "../support/gc.js";

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

  it("quotes the best matching sentences with numbered citations, from every passage that answers about as well", () => {
    const answer = extractiveAnswer({
      ...base,
      language: "en",
      question: "How do I connect to the VPN?",
      passages: [passage("Lunch is at noon. To connect to the VPN, install the client. Parking is free."), passage("Connect the VPN client at vpn.example.com."), passage("The VPN is fast.")],
    });
    assert.equal(answer, "According to the knowledge base:\n\nTo connect to the VPN, install the client. [1]\n\nConnect the VPN client at vpn.example.com. [2]");
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
    assert.match(extractiveAnswer({ ...base, language: "en", question: "weather on Mars?", passages: [] }), /could not find the answer to this in the knowledge base/);
    assert.match(extractiveAnswer({ ...base, language: "zh", question: "火星天气？", passages: [passage("Parking is free.")] }), /没有找到/);
  });

  it("quotes the unit of the kind asked for, with the neighbour that completes it", () => {
    const ask = (question: string, text: string, language: "en" | "zh" = "en") => extractiveAnswer({ ...base, language, question, passages: [passage(text)] });
    // A command announced by the sentence before it.
    assert.equal(
      ask("How do I install foo?", "Foo ships as an npm package for Linux and macOS.\n\nTo install foo, run:\n\n```sh\nnpm install -g foo\n```\n\nFoo needs Node 20."),
      "According to the knowledge base:\n\nTo install foo, run:\n```sh\nnpm install -g foo\n```\n[1]",
    );
    // The number asked for, and the sentence its "It" points back to.
    assert.equal(
      ask("What is the request timeout?", "Each request has a timeout and is cancelled when it runs out. It is 30 seconds unless configured otherwise. Logs are kept."),
      "According to the knowledge base:\n\nEach request has a timeout and is cancelled when it runs out. It is 30 seconds unless configured otherwise. [1]",
    );
    // Yes or no: the sentence that says what may be done.
    assert.equal(
      ask("年假可以结转到明年吗？", "年假的天数按工龄计算，年假每年一月发放。未休完的年假可以结转到次年三月底。年假需在系统中申请。", "zh"),
      "根据知识库：\n\n未休完的年假可以结转到次年三月底。 [1]",
    );
    // Of two units that hold the question's words alike, the one with the number asked for.
    assert.equal(
      ask("How many days of leave do new employees get?", "New employees get their leave days explained at onboarding. New employees get 20 days of leave."),
      "According to the knowledge base:\n\nNew employees get 20 days of leave. [1]",
    );
    assert.equal(ask("新员工有几天年假？", "新员工的年假由人事部门说明。新员工享有5天年假。", "zh"), "根据知识库：\n\n新员工享有5天年假。 [1]");
    // A unit that points back brings the one before it.
    assert.equal(
      ask("When do cached entries expire?", "Lookups are fast. The cache keeps entries in memory. It expires them after 10 minutes."),
      "According to the knowledge base:\n\nThe cache keeps entries in memory. It expires them after 10 minutes. [1]",
    );
    // A question for a value is no question for steps because it has a verb: the port, not the command.
    assert.equal(
      ask("What port does the dev server run on?", "Run `site serve` inside the folder. The development server listens on http://localhost:4000 and reloads pages."),
      "According to the knowledge base:\n\nThe development server listens on http://localhost:4000 and reloads pages. [1]",
    );
    assert.equal(ask("Run the dev server?", "Run `site serve` inside the folder. The development server listens on port 4000."), "According to the knowledge base:\n\nRun `site serve` inside the folder. [1]");
    // A unit cut inside a code span (a wrapped line that starts like a list item) brings the rest.
    assert.equal(
      ask("When do backups run by default?", "Backups run on a cron schedule. The default is `0 3\n* * *`, a full backup every night at 03:00. WAL is shipped continuously."),
      "According to the knowledge base:\n\nBackups run on a cron schedule.\nThe default is `0 3\n* * *`, a full backup every night at 03:00. WAL is shipped continuously. [1]",
    );
    // A table row, quoted with its header.
    assert.equal(
      ask("How many requests per minute does the Pro plan allow?", "| Plan: Free | Requests per minute: 60 |\n| Plan: Pro | Requests per minute: 600 |"),
      "According to the knowledge base:\n\n| Plan: Pro | Requests per minute: 600 | [1]",
    );
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

  it("numbers the passages in the user's turn, or the system message, and states the reply language", () => {
    const history = [{ role: "assistant" as const, content: "earlier" }];
    const [system, earlier, user] = promptMessages("SYSTEM", [passage("alpha", "Intro"), passage("beta")], "zh", "user", history, "问题");
    assert.ok(system?.content.startsWith("SYSTEM\n\n"));
    assert.match(system?.content ?? "", /reply in Chinese/);
    assert.doesNotMatch(system?.content ?? "", /alpha/);
    assert.deepEqual(earlier, history[0]);
    assert.equal(user?.role, "user");
    assert.match(user?.content ?? "", /\[1\] Handbook — Intro\nalpha/);
    assert.match(user?.content ?? "", /\[2\] Handbook\nbeta\n\nQuestion: 问题$/);
    assert.match(user?.content ?? "", /if they do not answer the question, say only that the knowledge base does not contain the answer/);
    const [inSystem, , plain] = promptMessages("SYSTEM", [passage("alpha", "Intro")], "en", "system", history, "question");
    assert.match(inSystem?.content ?? "", /reply in English[\s\S]*\[1\] Handbook — Intro\nalpha/);
    assert.deepEqual(plain, { role: "user", content: "question" });
  });
});

const dialogOptions = {
  systemPrompt: "",
  topK: 3,
  historyTokens: 1000,
  modelSeesOriginal: false,
  abstention: { enabled: true, minCoverage: 0.5, minSimilarity: 0.85 },
  passagePlacement: "user" as const,
};

describe("a chat turn without evidence", () => {
  let dir: string;
  let storage: ReturnType<typeof openSqliteStorage>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "assistant-dialog-"));
    storage = openSqliteStorage(dir, "normal");
    const documents = {
      "vpn.md": "To connect to the VPN, install the client and sign in with your badge number. The VPN server is vpn.example.com.",
      "leave.md": "Full-time employees receive 25 days of paid annual leave per year. Unused days expire on 31 March.",
      "nianjia.md": "员工入职满一年后享有五天带薪年假，未休完的年假可以结转到次年三月底。",
    };
    for (const [source, text] of Object.entries(documents)) {
      await storage.putDocument("assistant", { source, title: source, contentHash: source, chunks: [{ ordinal: 0, heading: "", text, terms: indexTerms(text) }] });
    }
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const dialogWith = (abstention: typeof dialogOptions.abstention) => {
    const metrics = createMetrics(() => Promise.resolve(0));
    const dialog = new DialogManager({
      conversations: storage,
      retriever: bm25Retriever(storage),
      provider: extractiveProvider(),
      metrics,
      masker: createMasker("mask", []),
      options: { ...dialogOptions, abstention },
    });
    return { dialog, declines: async () => (await metrics.declines.get()).values.map(({ labels, value }) => [labels.reason, value]) };
  };
  const ask = (dialog: DialogManager, message: string) => dialog.answer("acme", [], message, new AbortController().signal);

  it("declines honestly, in the user's language, without sources, and counts it", async () => {
    const { dialog, declines } = dialogWith(dialogOptions.abstention);
    const port = await ask(dialog, "Which port does the billing service listen on?");
    assert.deepEqual({ ...port, reply: port.reply.slice(0, 50) }, {
      reply: "I could not find the answer to this in the knowledge base.".slice(0, 50),
      sources: [],
      usage: { promptTokens: 0, completionTokens: 0 },
      grounded: false,
    });
    const canteen = await ask(dialog, "公司食堂几点开门？");
    assert.match(canteen.reply, /^抱歉，知识库中没有找到/);
    assert.equal(canteen.grounded, false);
    assert.deepEqual(await declines(), [["evidence", 2]]);
  });

  it("answers what the knowledge base does hold, grounded and cited, in either language", async () => {
    const { dialog, declines } = dialogWith(dialogOptions.abstention);
    const leave = await ask(dialog, "How many days of paid annual leave do full-time employees get?");
    assert.equal(leave.grounded, true);
    assert.match(leave.reply, /25 days of paid annual leave per year\. \[1\]/);
    const carried = await ask(dialog, "未休完的年假可以结转吗？");
    assert.equal(carried.grounded, true);
    assert.match(carried.reply, /结转到次年三月底/);
    assert.deepEqual(await declines(), []);
    // 假 is a word of its own to the segmenter, 年假 another: the characters still meet.
    assert.equal((await bm25Retriever(storage).search("acme", "去年没休完的假还能用吗", 3))[0]?.source, "nianjia.md");
  });

  it("with abstention off, lets the model quote whatever ranks first", async () => {
    const { dialog } = dialogWith({ ...dialogOptions.abstention, enabled: false });
    const port = await ask(dialog, "Which port does the VPN server listen on?");
    assert.equal(port.grounded, true);
    assert.match(port.reply, /vpn\.example\.com/);
  });
});

/**
 * A dialog over a fresh SQLite store holding one document, the extractive model answering;
 * `conversations` may stand between the dialog and the store's conversations.
 */
async function withDialog(
  text: string,
  masker: Masker,
  use: (dialog: DialogManager, storage: Storage) => Promise<void>,
  { conversations = (storage) => storage, provider = extractiveProvider() }: { conversations?: (storage: Storage) => ConversationStore; provider?: ModelProvider } = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "assistant-dialog-"));
  const storage = openSqliteStorage(dir, "normal");
  try {
    await storage.putDocument("assistant", { source: "staff.md", title: "Staff", contentHash: "h", chunks: [{ ordinal: 0, heading: "", text, terms: indexTerms(text) }] });
    const dialog = new DialogManager({
      conversations: conversations(storage),
      retriever: bm25Retriever(storage),
      provider,
      metrics: createMetrics(() => Promise.resolve(0)),
      masker,
      options: { ...dialogOptions, systemPrompt: "You answer from the handbook." },
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
      const result = await dialog.chat(owner, "Where is EMP-204811?", await dialog.openConversation(owner, undefined), new AbortController().signal);
      assert.match(result.reply, /Building 7/);
      const turns = await storage.listTurns(owner, result.conversationId);
      assert.equal(turns[0]?.content, "Where is **********?");
      assert.ok(!turns.some((turn) => turn.content.includes("EMP-204811")));
    });
  });

  it("masks the message once, for the prompt and the stored turn alike", async () => {
    const masker = createMasker("mask", [{ name: "employee", pattern: "EMP-\\d{6}", flags: "" }]);
    const masked: string[] = [];
    const counting: Masker = (text) => {
      masked.push(text);
      return masker(text);
    };
    await withDialog("Employee EMP-204811 works in Building 7.", counting, async (dialog) => {
      await dialog.chat(owner, "Where is EMP-204811?", await dialog.openConversation(owner, undefined), new AbortController().signal);
      assert.equal(masked.filter((text) => text === "Where is EMP-204811?").length, 1);
    });
  });

  it("masks only the history turns the model is shown, however long the conversation", async () => {
    const masked: string[] = [];
    const counting: Masker = (text) => {
      masked.push(text);
      return text.replaceAll(/EMP-\d{6}/g, "**********");
    };
    let prompt: ChatMessage[] = [];
    const model = extractiveProvider();
    const watching: ModelProvider = {
      ...model,
      generate(request) {
        prompt = request.messages;
        return model.generate(request);
      },
    };
    // 100 turns of about 25 tokens each, against the 1,000-token history budget.
    const history: ChatMessage[] = Array.from({ length: 100 }, (_, turn) => ({
      role: turn % 2 === 0 ? "user" : "assistant",
      content: `Turn ${String(turn)}: EMP-${String(200000 + turn)} asked about the canteen and its opening hours again today.`,
    }));
    await withDialog(
      "The canteen opens at noon.",
      counting,
      async (dialog) => {
        await dialog.answer("acme", history, "When does the canteen open?", new AbortController().signal);
        const shown = prompt.slice(1, -1);
        assert.ok(shown.length > 10 && shown.length < 100, `${String(shown.length)} turns shown`);
        assert.deepEqual(
          shown.map((turn) => turn.content),
          history.slice(-shown.length).map((turn) => turn.content.replace(/EMP-\d{6}/, "**********")),
        );
        assert.equal(masked.filter((text) => text.startsWith("Turn ")).length, shown.length);
      },
      { provider: watching },
    );
  });

  it("continues a conversation from its history without a second read of the conversation, and refuses one that is not the caller's", async () => {
    let lookups = 0;
    const counting = (storage: Storage): ConversationStore => ({
      ...storage,
      getConversation: (who, id) => {
        lookups += 1;
        return storage.getConversation(who, id);
      },
    });
    await withDialog(
      "The canteen opens at noon. The library opens at nine.",
      createMasker("mask", []),
      async (dialog, storage) => {
        const signal = new AbortController().signal;
        const first = await dialog.chat(owner, "When does the canteen open?", await dialog.openConversation(owner, undefined), signal);
        const second = await dialog.chat(owner, "And the library?", await dialog.openConversation(owner, first.conversationId), signal);
        assert.equal(second.conversationId, first.conversationId);
        assert.equal(lookups, 0);
        assert.deepEqual(
          (await storage.listTurns(owner, first.conversationId)).map((turn) => turn.seq),
          [1, 2, 3, 4],
        );
        for (const [who, id] of [
          [{ tenant: "acme", user: "bob" }, first.conversationId],
          [owner, "00000000-0000-0000-0000-000000000000"],
        ] as const) {
          await assert.rejects(dialog.openConversation(who, id), ConversationNotFoundError);
        }
        assert.equal(lookups, 2);
        assert.equal((await storage.listTurns(owner, first.conversationId)).length, 4);
      },
      { conversations: counting },
    );
  });

  it("holds no prompt while the model streams an answer, so a long stream keeps only what it needs", async () => {
    const fake = await startFakeOpenAI();
    const held = heldReply("The canteen opens at noon [1]", ".");
    fake.queue.push(held.behaviour);
    const model = openaiProvider(buildConfig({ model: { provider: "openai", name: "fake-model", baseURL: fake.baseURL } }, {}).model, undefined);
    let prompt: WeakRef<ChatMessage[]> | undefined;
    const watching: ModelProvider = {
      ...model,
      generate(request) {
        prompt = new WeakRef(request.messages);
        return model.generate(request);
      },
    };
    try {
      await withDialog(
        "The canteen opens at noon. The library opens at nine.",
        createMasker("mask", []),
        async (dialog) => {
          let streaming = (): void => undefined;
          const firstPiece = new Promise<void>((resolve) => {
            streaming = resolve;
          });
          const answer = dialog.answer("acme", [], "When does the canteen open?", new AbortController().signal, { delta: () => { streaming(); } });
          await firstPiece;
          collectGarbage();
          collectGarbage();
          assert.ok(prompt !== undefined, "the model was asked");
          assert.equal(prompt.deref(), undefined, "the prompt's messages outlived the request that sent them");
          held.release();
          const { reply, usage } = await answer;
          assert.equal(reply, "The canteen opens at noon [1].");
          assert.deepEqual(usage, { promptTokens: 42, completionTokens: 7 });
        },
        { provider: watching },
      );
    } finally {
      held.release();
      await fake.close();
    }
  });

  it("titles a new conversation with the first 80 graphemes of the message, never half of one, and a short message with itself", async () => {
    await withDialog("The canteen opens at noon.", createMasker("mask", []), async (dialog, storage) => {
      const family = "👨‍👩‍👧";
      const result = await dialog.chat(owner, `  ${family.repeat(100)} when does the canteen open?`, await dialog.openConversation(owner, undefined), new AbortController().signal);
      assert.equal((await storage.getConversation(owner, result.conversationId))?.title, family.repeat(80));
      const short = await dialog.chat(owner, "  When does the canteen open? 食堂几点开门？ ", await dialog.openConversation(owner, undefined), new AbortController().signal);
      assert.equal((await storage.getConversation(owner, short.conversationId))?.title, "When does the canteen open? 食堂几点开门？");
    });
  });
});
