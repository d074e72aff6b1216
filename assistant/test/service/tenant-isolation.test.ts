import assert from "node:assert/strict";
import { KNOWLEDGE } from "../support/knowledge.js";
import { apiClient, type ErrorBody } from "../support/client.js";
import { sseEvents, startService, type RunningService } from "../support/service.js";

interface Conversation {
  id: string;
  turnCount: number;
}

/** Three callers: two users of one tenant, and a user of the same name in another tenant. */
const CALLERS = {
  aliceAcme: { key: "acme-alice-Kd8Fj3Lm9Qw2Er5T", tenant: "acme", user: "alice" },
  bobAcme: { key: "acme-bob-Zx4Cv7Bn1Mq8Wp3Y", tenant: "acme", user: "bob" },
  aliceGlobex: { key: "globex-alice-Hs6Gt2Jy9Ku4Lo1P", tenant: "globex", user: "alice" },
};

describe("tenant and user isolation", function () {
  this.timeout(60000);
  let service: RunningService;
  const owned: Record<keyof typeof CALLERS, string> = { aliceAcme: "", bobAcme: "", aliceGlobex: "" };
  before(async () => {
    service = await startService({
      knowledge: KNOWLEDGE,
      config: {
        auth: { mode: "apiKey", apiKeys: Object.entries(CALLERS).map(([name, { key, tenant, user }]) => ({ name, key, tenant, user })) },
        limits: { maxPageSize: 50 },
      },
    });
    for (const name of Object.keys(CALLERS) as (keyof typeof CALLERS)[]) {
      const reply = await as(name)<{ conversationId: string }>("POST", "/api/v1/chat", { message: `年假有几天？ (${name})` });
      assert.equal(reply.status, 200);
      owned[name] = reply.body.conversationId;
    }
  });
  after(async () => {
    await service.stop();
  });

  const as = (name: keyof typeof CALLERS) => apiClient(service.url, CALLERS[name].key);
  const strangers: [keyof typeof CALLERS, keyof typeof CALLERS][] = [
    ["bobAcme", "aliceAcme"],
    ["aliceGlobex", "aliceAcme"],
    ["aliceAcme", "aliceGlobex"],
  ];
  const turnsOf = async (name: keyof typeof CALLERS): Promise<number> =>
    (await as(name)<Conversation>("GET", `/api/v1/conversations/${owned[name]}`)).body.turnCount;

  it("answers 404 for another caller's conversation, exactly as for one that does not exist", async () => {
    for (const [intruder, victim] of strangers) {
      const foreign = await as(intruder)<ErrorBody>("GET", `/api/v1/conversations/${owned[victim]}`);
      assert.equal(foreign.status, 404, `${intruder} read ${victim}`);
      const missing = await as(intruder)<ErrorBody>("GET", "/api/v1/conversations/00000000-0000-0000-0000-000000000000");
      assert.equal(foreign.body.error.code, missing.body.error.code);
      assert.equal(foreign.body.error.message.replace(owned[victim], "ID"), missing.body.error.message.replace("00000000-0000-0000-0000-000000000000", "ID"));
    }
  });

  it("lists only the caller's own conversations, also when paging with another caller's cursor", async () => {
    await as("aliceAcme")("POST", "/api/v1/chat", { message: "How do I connect to the VPN?" });
    const alicePage = await as("aliceAcme")<{ items: Conversation[]; nextCursor: string | null }>("GET", "/api/v1/conversations?limit=1");
    assert.notEqual(alicePage.body.nextCursor, null);
    for (const name of Object.keys(CALLERS) as (keyof typeof CALLERS)[]) {
      const list = await as(name)<{ items: Conversation[] }>("GET", "/api/v1/conversations");
      assert.ok(list.body.items.some((item) => item.id === owned[name]));
      for (const other of Object.keys(CALLERS).filter((entry) => entry !== name) as (keyof typeof CALLERS)[]) {
        assert.ok(!list.body.items.some((item) => item.id === owned[other]), `${name} sees ${other}'s conversation`);
      }
      const paged = await as(name)<{ items: Conversation[] }>("GET", `/api/v1/conversations?cursor=${alicePage.body.nextCursor ?? ""}`);
      if (name !== "aliceAcme") assert.ok(paged.body.items.every((item) => item.id === owned[name]), `${name} paged into another's list`);
    }
  });

  it("refuses to continue another caller's conversation, plain or streamed, and adds nothing to it", async () => {
    for (const [intruder, victim] of strangers) {
      const before = await turnsOf(victim);
      const plain = await as(intruder)<ErrorBody>("POST", "/api/v1/chat", { message: "show me the history", conversationId: owned[victim] });
      assert.equal(plain.status, 404);
      assert.equal(plain.body.error.code, "conversation_not_found");
      const streamed = await fetch(`${service.url}/api/v1/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${CALLERS[intruder].key}`, accept: "text/event-stream" },
        body: JSON.stringify({ message: "show me the history", conversationId: owned[victim], stream: true }),
      });
      assert.equal(streamed.status, 404);
      assert.equal(((await streamed.json()) as ErrorBody).error.code, "conversation_not_found");
      assert.equal(await turnsOf(victim), before);
    }
  });

  it("refuses to delete another caller's conversation", async () => {
    for (const [intruder, victim] of strangers) {
      assert.equal((await as(intruder)("DELETE", `/api/v1/conversations/${owned[victim]}`)).status, 404);
      assert.equal((await as(victim)("GET", `/api/v1/conversations/${owned[victim]}`)).status, 200);
    }
    assert.equal((await as("bobAcme")("DELETE", `/api/v1/conversations/${owned.bobAcme}`)).status, 204);
    assert.equal((await as("bobAcme")("GET", `/api/v1/conversations/${owned.bobAcme}`)).status, 404);
  });

  it("keeps the OpenAI-compatible endpoint stateless: a completion stores nothing for anyone", async () => {
    const counts = async () =>
      Promise.all((Object.keys(CALLERS) as (keyof typeof CALLERS)[]).map(async (name) => (await as(name)<{ items: unknown[] }>("GET", "/api/v1/conversations")).body.items.length));
    const before = await counts();
    const completion = await as("aliceGlobex")("POST", "/v1/chat/completions", { model: "extractive", messages: [{ role: "user", content: "年假有几天？" }] });
    assert.equal(completion.status, 200);
    const stream = await fetch(`${service.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${CALLERS.aliceGlobex.key}` },
      body: JSON.stringify({ model: "extractive", messages: [{ role: "user", content: "VPN?" }], stream: true }),
    });
    const events: string[] = [];
    for await (const event of sseEvents(stream)) events.push(event.data);
    assert.equal(events.at(-1), "[DONE]");
    assert.deepEqual(await counts(), before);
  });

  it("lets every tenant search the assistant's knowledge base", async () => {
    for (const name of Object.keys(CALLERS) as (keyof typeof CALLERS)[]) {
      const reply = await as(name)<{ sources: { source: string }[] }>("POST", "/api/v1/chat", { message: "How do I connect to the VPN?" });
      assert.equal(reply.body.sources[0]?.source, "it/vpn.md", name);
    }
  });
});
