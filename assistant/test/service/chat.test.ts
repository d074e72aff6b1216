import assert from "node:assert/strict";
import { KNOWLEDGE } from "../support/knowledge.js";
import { postJson, sseEvents, startService, type RunningService } from "../support/service.js";

interface ChatReply {
  reply: string;
  conversationId: string;
  sources: { index: number; title: string; source: string; section: string; score: number; excerpt: string }[];
}

interface ErrorReply {
  error: { code: string; message: string };
}

describe("chat API", () => {
  let service: RunningService;
  before(async () => {
    service = await startService({ knowledge: KNOWLEDGE, config: { limits: { maxMessageChars: 200, maxPageSize: 50 } } });
  });
  after(async () => {
    await service.stop();
  });

  const chat = (body: unknown) => postJson(`${service.url}/api/v1/chat`, body);

  it("answers a Chinese greeting with an honest description of what it can do", async () => {
    const { status, body } = await chat({ message: "你好,请问能帮我什么?" });
    assert.equal(status, 200);
    const reply = body as ChatReply;
    assert.match(reply.reply, /知识库/);
    assert.match(reply.reply, /3 篇文档/);
    assert.deepEqual(reply.sources, []);
    assert.match(reply.conversationId, /^[0-9a-f-]{36}$/);
  });

  it("answers an English greeting in English", async () => {
    const { body } = await chat({ message: "hello, what can you do?" });
    assert.match((body as ChatReply).reply, /^Hello! I am the enterprise knowledge-base assistant/);
  });

  it("answers a Chinese question from the knowledge base with a numbered citation", async () => {
    const { status, body } = await chat({ message: "年假有几天？" });
    assert.equal(status, 200);
    const reply = body as ChatReply;
    assert.match(reply.reply, /^根据知识库：/);
    assert.match(reply.reply, /5天带薪年假.*\[1\]/);
    assert.equal(reply.sources[0]?.index, 1);
    assert.equal(reply.sources[0]?.source, "hr/leave.md");
    assert.equal(reply.sources[0]?.title, "年假制度");
  });

  it("answers an English question in English, citing the right document", async () => {
    const { body } = await chat({ message: "How do I connect to the VPN?" });
    const reply = body as ChatReply;
    assert.match(reply.reply, /^According to the knowledge base:/);
    assert.match(reply.reply, /install the client/);
    assert.equal(reply.sources[0]?.source, "it/vpn.md");
  });

  it("says so when the knowledge base has nothing relevant", async () => {
    const { body } = await chat({ message: "What is the weather on Mars?" });
    assert.match((body as ChatReply).reply, /I could not find the answer to this in the knowledge base/);
    assert.deepEqual((body as ChatReply).sources, []);
    const zh = await chat({ message: "火星上的天气怎么样？" });
    assert.match((zh.body as ChatReply).reply, /没有找到/);
  });

  it("continues a conversation and stores its turns, listed, fetched and deleted", async () => {
    const first = (await chat({ message: "Where is the VPN server?" })).body as ChatReply;
    const second = await chat({ message: "When does the cafeteria open?", conversationId: first.conversationId });
    assert.equal(second.status, 200);
    assert.equal((second.body as ChatReply).conversationId, first.conversationId);

    const got = await fetch(`${service.url}/api/v1/conversations/${first.conversationId}`);
    assert.equal(got.status, 200);
    const conversation = (await got.json()) as { title: string; turnCount: number; turns: { role: string; content: string; sources: unknown[] }[] };
    assert.equal(conversation.title, "Where is the VPN server?");
    assert.equal(conversation.turnCount, 4);
    assert.deepEqual(
      conversation.turns.map((turn) => turn.role),
      ["user", "assistant", "user", "assistant"],
    );
    assert.equal(conversation.turns[2]?.content, "When does the cafeteria open?");
    assert.match(conversation.turns[3]?.content ?? "", /11:30/);
    assert.ok((conversation.turns[3]?.sources.length ?? 0) > 0);

    const deleted = await fetch(`${service.url}/api/v1/conversations/${first.conversationId}`, { method: "DELETE" });
    assert.equal(deleted.status, 204);
    const gone = await fetch(`${service.url}/api/v1/conversations/${first.conversationId}`);
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as ErrorReply).error.code, "conversation_not_found");
    const again = await fetch(`${service.url}/api/v1/conversations/${first.conversationId}`, { method: "DELETE" });
    assert.equal(again.status, 404);
  });

  it("pages through conversations with a cursor", async () => {
    for (let index = 0; index < 3; index += 1) await chat({ message: `page test ${index}` });
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "limit=2" : `limit=2&cursor=${encodeURIComponent(cursor)}`;
      const response = await fetch(`${service.url}/api/v1/conversations?${query}`);
      assert.equal(response.status, 200);
      const page = (await response.json()) as { items: { id: string }[]; nextCursor: string | null };
      assert.ok(page.items.length <= 2);
      ids.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null);
    assert.ok(pages >= 2);
    assert.equal(new Set(ids).size, ids.length);
    const bad = await fetch(`${service.url}/api/v1/conversations?cursor=garbage`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as ErrorReply).error.code, "invalid_cursor");
    const tooBig = await fetch(`${service.url}/api/v1/conversations?limit=51`);
    assert.equal(tooBig.status, 400);
  });

  it("rejects bad input with the error shape", async () => {
    const cases: [unknown, number, string][] = [
      [{}, 400, "invalid_request"],
      [{ message: "" }, 400, "invalid_request"],
      [{ message: "   " }, 400, "invalid_request"],
      [{ message: 42 }, 400, "invalid_request"],
      [{ message: "x".repeat(201) }, 400, "invalid_request"],
      [{ message: "hi", conversationId: "no/such" }, 400, "invalid_request"],
      [{ message: "hi", conversationId: "00000000-0000-0000-0000-000000000000" }, 404, "conversation_not_found"],
      [{ message: "hi", stream: "yes" }, 400, "invalid_request"],
      [{ message: "hi", extra: true }, 400, "invalid_request"],
      [["message"], 400, "invalid_request"],
    ];
    for (const [body, status, code] of cases) {
      const response = await chat(body);
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal((response.body as ErrorReply).error.code, code, JSON.stringify(body));
      assert.equal(typeof (response.body as ErrorReply).error.message, "string");
    }
    const malformed = await fetch(`${service.url}/api/v1/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"message": "hi"' });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as ErrorReply).error.code, "invalid_json");
    const notFound = await fetch(`${service.url}/api/v2/nothing`);
    assert.equal(notFound.status, 404);
    assert.equal(((await notFound.json()) as ErrorReply).error.code, "not_found");
  });

  it("streams a reply as SSE when asked with stream: true or Accept: text/event-stream", async () => {
    for (const [body, headers] of [
      [{ message: "年假怎么申请？", stream: true }, {}],
      [{ message: "年假怎么申请？" }, { accept: "text/event-stream" }],
    ] as const) {
      const response = await fetch(`${service.url}/api/v1/chat`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
      const events = [];
      for await (const event of sseEvents(response)) events.push(event);
      const names = events.map((event) => event.event).filter((name) => name !== ":");
      assert.equal(names[0], "start");
      assert.equal(names.at(-1), "done");
      assert.ok(names.includes("delta"));
      const deltas = events.filter((event) => event.event === "delta").map((event) => (JSON.parse(event.data) as { text: string }).text);
      const done = JSON.parse(events.at(-1)?.data ?? "{}") as ChatReply;
      assert.equal(deltas.join(""), done.reply);
      assert.match(done.reply, /三个工作日.*\[1\]/);
      const stored = await fetch(`${service.url}/api/v1/conversations/${done.conversationId}`);
      assert.equal(stored.status, 200);
    }
  });

  it("answers an SSE request for an unknown conversation with a plain 404", async () => {
    const response = await fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hi", stream: true, conversationId: "11111111-1111-1111-1111-111111111111" }),
    });
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as ErrorReply).error.code, "conversation_not_found");
  });

  it("reports health, readiness, request ids and the OpenAPI document", async () => {
    assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
    const ready = await fetch(`${service.url}/readyz`);
    assert.deepEqual(await ready.json(), { status: "ready", checks: { draining: false, storage: true, knowledge: true, model: true } });
    const traced = await fetch(`${service.url}/healthz`, { headers: { "x-request-id": "trace-123" } });
    assert.equal(traced.headers.get("x-request-id"), "trace-123");
    const openapi = (await (await fetch(`${service.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(openapi.openapi, "3.1.0");
    for (const path of ["/api/v1/chat", "/v1/chat/completions", "/v1/models", "/api/v1/conversations", "/api/v1/conversations/{id}", "/healthz", "/readyz"]) {
      assert.ok(path in openapi.paths, path);
    }
    assert.ok("requestBody" in (openapi.paths["/api/v1/chat"]?.["post"] as object));
  });

  it("exposes Prometheus metrics", async () => {
    await chat({ message: "How do I connect to the VPN?" });
    const text = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(text, /http_requests_total\{method="POST",route="\/api\/v1\/chat",status="200"\} \d+/);
    assert.match(text, /http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/api\/v1\/chat",status="200"\}/);
    assert.match(text, /http_requests_total\{method="GET",route="unmatched",status="404"\}/);
    assert.match(text, /assistant_chat_turns_total\{endpoint="chat",outcome="ok"\} \d+/);
    assert.match(text, /assistant_active_conversations [1-9]\d*/);
    assert.match(text, /assistant_model_request_duration_seconds_count\{provider="extractive",model="extractive",outcome="ok"\} \d+/);
    assert.match(text, /assistant_model_tokens_total\{provider="extractive",model="extractive",kind="completion"\} [1-9]/);
    assert.match(text, /process_cpu_user_seconds_total/);
  });
});
