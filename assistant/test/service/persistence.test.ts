import assert from "node:assert/strict";
import { postJson, runFailingService, startService, tempDir, waitForLog } from "../support/service.js";

interface ChatReply {
  reply: string;
  conversationId: string;
}

interface StoredConversation {
  turns: { role: string; content: string }[];
}

const KNOWLEDGE = { "kb.md": "# Policy\n\nBackups run every night at 02:00. Restores take about one hour.\n" };

describe("persistence", () => {
  it("keeps conversations across a restart and continues them", async () => {
    const dataDir = tempDir("restart");
    const first = await startService({ dataDir, knowledge: KNOWLEDGE });
    const { body } = await postJson(`${first.url}/api/v1/chat`, { message: "When do backups run?" });
    const { conversationId, reply } = body as ChatReply;
    assert.deepEqual(await first.stop(), { code: 0, signal: null });

    const second = await startService({ dataDir, knowledge: KNOWLEDGE });
    try {
      const stored = (await (await fetch(`${second.url}/api/v1/conversations/${conversationId}`)).json()) as StoredConversation;
      assert.deepEqual(stored.turns.map((turn) => turn.content), ["When do backups run?", reply]);
      const next = await postJson(`${second.url}/api/v1/chat`, { message: "How long do restores take?", conversationId });
      assert.equal(next.status, 200);
      const after = (await (await fetch(`${second.url}/api/v1/conversations/${conversationId}`)).json()) as StoredConversation;
      assert.equal(after.turns.length, 4);
    } finally {
      await second.stop();
    }
  });

  it("hands the data directory over: a second process waits, not listening, until the first stops, then serves its history", async () => {
    const dataDir = tempDir("handover");
    const first = await startService({ dataDir, knowledge: KNOWLEDGE });
    const second = startService({ dataDir, knowledge: KNOWLEDGE });
    try {
      const { body } = await postJson(`${first.url}/api/v1/chat`, { message: "When do backups run?" });
      const { conversationId } = body as ChatReply;
      // The waiting process must not open the store: the first one keeps writing meanwhile.
      const waiting = await Promise.race([second.then(() => "listening"), new Promise((resolve) => setTimeout(resolve, 1500, "waiting"))]);
      assert.equal(waiting, "waiting");
      const more = await postJson(`${first.url}/api/v1/chat`, { message: "How long do restores take?", conversationId });
      assert.equal(more.status, 200);
      assert.deepEqual(await first.stop(), { code: 0, signal: null });

      const next = await second;
      const stored = (await (await fetch(`${next.url}/api/v1/conversations/${conversationId}`)).json()) as StoredConversation;
      assert.equal(stored.turns.length, 4, "every turn the first process stored");
      await waitForLog(next, (line) => line.includes("waiting for the process that has the data directory to stop"));
    } finally {
      await first.stop();
      await (await second).stop();
    }
  });

  it("takes the data directory at once from a process that was killed, and gives up on a live one after storage.startupWaitSeconds", async () => {
    const dataDir = tempDir("handover-killed");
    const first = await startService({ dataDir });
    assert.equal((await first.stop("SIGKILL")).signal, "SIGKILL");
    const second = await startService({ dataDir, config: { storage: { startupWaitSeconds: 1 } } });
    try {
      const refused = await runFailingService({ dataDir, config: { storage: { startupWaitSeconds: 1 } } });
      assert.equal(refused.code, 1);
      assert.match(refused.output, /another process has held the data directory .* embedded storage is one process's/);
    } finally {
      await second.stop();
    }
  });

  it("loses no acknowledged turn when killed with SIGKILL during a burst of chats", async () => {
    const dataDir = tempDir("kill9");
    const service = await startService({ dataDir, knowledge: KNOWLEDGE });
    const seed = (await postJson(`${service.url}/api/v1/chat`, { message: "seed conversation" })).body as ChatReply;
    const acknowledged: { message: string; reply: string; conversationId: string }[] = [];
    const total = 120;
    const killAfter = 40;
    let killed = false;
    const requests = Array.from({ length: total }, async (_, index) => {
      const message = `burst message ${index} about backups`;
      // Every third chat continues the same conversation, so concurrent appends to one conversation are covered too.
      const body = index % 3 === 0 ? { message, conversationId: seed.conversationId } : { message };
      try {
        const response = await postJson(`${service.url}/api/v1/chat`, body);
        if (response.status !== 200) return;
        const { reply, conversationId } = response.body as ChatReply;
        acknowledged.push({ message, reply, conversationId });
        if (acknowledged.length >= killAfter && !killed) {
          killed = true;
          service.child.kill("SIGKILL");
        }
      } catch {
        // the connection died with the process: this chat was never acknowledged
      }
    });
    await Promise.all(requests);
    const { signal } = await service.exited;
    assert.equal(signal, "SIGKILL");
    assert.ok(acknowledged.length >= killAfter);

    const restarted = await startService({ dataDir, knowledge: KNOWLEDGE });
    try {
      for (const { message, reply, conversationId } of acknowledged) {
        const response = await fetch(`${restarted.url}/api/v1/conversations/${conversationId}`);
        assert.equal(response.status, 200, `conversation of "${message}" lost`);
        const stored = (await response.json()) as StoredConversation;
        const index = stored.turns.findIndex((turn) => turn.role === "user" && turn.content === message);
        assert.ok(index >= 0, `turn "${message}" lost`);
        assert.deepEqual(stored.turns[index + 1], { ...stored.turns[index + 1], role: "assistant", content: reply });
      }
    } finally {
      await restarted.stop();
    }
  });
});
