import assert from "node:assert/strict";
import OpenAI from "openai";
import { completionReply, errorReply, startFakeOpenAI, startStream, finishStream, streamReply, writeDelta, type Behaviour, type FakeOpenAI } from "../support/fake-openai.js";
import { postJson, sseEvents, startService, waitForLog, type RunningService, type SseEvent } from "../support/service.js";
import { KNOWLEDGE } from "../support/knowledge.js";

interface ChatReply {
  reply: string;
  conversationId: string;
  sources: { index: number; source: string }[];
  grounded: boolean;
}

/** A promise with its resolve function, so a test can hold the fake model mid-stream. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** POST /api/v1/chat to `target`, asking for the reply as a stream. */
const streamedChat = (message: string, target: { url: string }): Promise<Response> =>
  fetch(`${target.url}/api/v1/chat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message, stream: true }) });

/** The events of a streamed chat turn, heartbeats left out. */
async function streamedChatEvents(message: string, target: { url: string }): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of sseEvents(await streamedChat(message, target))) if (event.event !== ":") events.push(event);
  return events;
}

describe("openai model provider against a local OpenAI-wire server", () => {
  let fake: FakeOpenAI;
  let service: RunningService;
  before(async () => {
    fake = await startFakeOpenAI();
    // Abstention off: every message reaches the model, whatever the knowledge base holds (the wire is what is tested here).
    service = await startService({
      knowledge: KNOWLEDGE,
      config: {
        model: { provider: "openai", baseURL: fake.baseURL, name: "fake-model", apiKeyEnv: "FAKE_MODEL_KEY", maxRetries: 2, timeoutMs: 10000 },
        server: { sseHeartbeatMs: 50 },
        systemPrompt: "SYSTEM-PROMPT-MARKER",
        knowledge: { abstention: { enabled: false } },
      },
      env: { FAKE_MODEL_KEY: "sk-test-secret" },
    });
  });
  after(async () => {
    await service.stop();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.queue.length = 0;
  });

  const completions = () => fake.requests.filter((request) => request.path === "/v1/chat/completions");

  it("sends the assembled prompt with the key, the passages in the user's turn, and returns the model's reply with sources", async () => {
    const { status, body } = await postJson(`${service.url}/api/v1/chat`, { message: "How do I connect to the VPN?" });
    assert.equal(status, 200);
    const reply = body as ChatReply;
    assert.equal(reply.reply, "Hello from the fake model.");
    assert.equal(reply.sources[0]?.source, "it/vpn.md");
    const [request] = completions();
    assert.equal(request?.authorization, "Bearer sk-test-secret");
    assert.equal(request?.body?.["model"], "fake-model");
    // Nobody reads this reply as it is made: it is asked for whole, not a packet per token.
    assert.equal(request?.body?.["stream"], false);
    assert.equal(request?.body?.["stream_options"], undefined);
    const messages = request?.body?.["messages"] as { role: string; content: string }[];
    assert.equal(messages[0]?.role, "system");
    assert.match(messages[0]?.content ?? "", /^SYSTEM-PROMPT-MARKER/);
    // Some chat templates (Gemma's) drop system messages: the passages travel with the question.
    assert.doesNotMatch(messages[0]?.content ?? "", /VPN guide/);
    assert.equal(messages.at(-1)?.role, "user");
    assert.match(messages.at(-1)?.content ?? "", /^Knowledge-base passages[^\n]*\n\n\[1\] VPN guide\nTo connect to the VPN[\s\S]*\n\nQuestion: How do I connect to the VPN\?$/);
  });

  it("records token usage on the stored turn and in metrics", async () => {
    const { body } = await postJson(`${service.url}/api/v1/chat`, { message: "Where is the VPN server?" });
    const conversation = (await (await fetch(`${service.url}/api/v1/conversations/${(body as ChatReply).conversationId}`)).json()) as {
      turns: { role: string; promptTokens: number | null; completionTokens: number | null }[];
    };
    assert.deepEqual(conversation.turns[1], { ...conversation.turns[1], promptTokens: 42, completionTokens: 7 });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /assistant_model_tokens_total\{provider="openai",model="fake-model",kind="prompt"\} (4[2-9]|[5-9]\d|\d{3,})/);
  });

  it("keeps conversation memory: earlier turns go to the model", async () => {
    const first = (await postJson(`${service.url}/api/v1/chat`, { message: "My favourite colour is teal." })).body as ChatReply;
    await postJson(`${service.url}/api/v1/chat`, { message: "What is my favourite colour?", conversationId: first.conversationId });
    const messages = completions().at(-1)?.body?.["messages"] as { role: string; content: string }[];
    assert.deepEqual(
      messages.slice(1).map((message) => message.role),
      ["user", "assistant", "user"],
    );
    assert.equal(messages[1]?.content, "My favourite colour is teal.");
  });

  it("retries a 429 and a 503 with backoff, then succeeds", async () => {
    fake.queue.push(errorReply(429, "Rate limit reached", "rate_limit_exceeded"), errorReply(503, "overloaded", "overloaded"));
    const { status, body } = await postJson(`${service.url}/api/v1/chat`, { message: "hello there model" });
    assert.equal(status, 200);
    assert.equal((body as ChatReply).reply, "Hello from the fake model.");
    assert.equal(completions().length, 3);
  });

  it("answers 502 with the error shape when the model keeps failing, and stores nothing", async () => {
    fake.queue.push(...[1, 2, 3].map(() => errorReply(500, "boom", "server_error")));
    const before = (await (await fetch(`${service.url}/api/v1/conversations?limit=100`)).json()) as { items: unknown[] };
    const { status, body } = await postJson(`${service.url}/api/v1/chat`, { message: "will this fail?" });
    assert.equal(status, 502);
    assert.deepEqual(body, { error: { code: "model_unavailable", message: "the model endpoint is unavailable, try again later" } });
    assert.equal(completions().length, 3);
    const after = (await (await fetch(`${service.url}/api/v1/conversations?limit=100`)).json()) as { items: unknown[] };
    assert.equal(after.items.length, before.items.length);
  });

  it("does not retry a 400 from the model", async () => {
    fake.queue.push(errorReply(400, "bad", "invalid_request_error"));
    const { status } = await postJson(`${service.url}/api/v1/chat`, { message: "a question" });
    assert.equal(status, 502);
    assert.equal(completions().length, 1);
  });

  it("streams model tokens as they arrive, with heartbeats while the model is silent", async () => {
    const release = gate();
    fake.queue.push(async (response) => {
      startStream(response);
      writeDelta(response, "first ");
      await release.opened;
      writeDelta(response, "second");
      finishStream(response);
    });
    const response = await fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ message: "stream please" }),
    });
    const seen: string[] = [];
    let reply = "";
    for await (const event of sseEvents(response)) {
      seen.push(event.event);
      if (event.event === "delta") reply += (JSON.parse(event.data) as { text: string }).text;
      // The model is held after its first token; only a heartbeat can arrive until it is released.
      if (event.event === ":" && reply === "first ") release.open();
    }
    assert.equal(reply, "first second");
    assert.deepEqual(seen.filter((name) => name !== ":"), ["start", "delta", "delta", "done"]);
    assert.ok(seen.slice(seen.indexOf("delta")).includes(":"));
    assert.equal(completions()[0]?.body?.["stream"], true);
    assert.deepEqual(completions()[0]?.body?.["stream_options"], { include_usage: true });
  });

  it("streams through /v1/chat/completions to the official SDK, heartbeats and all", async () => {
    const release = gate();
    fake.queue.push(async (response) => {
      startStream(response);
      writeDelta(response, "slow ");
      await release.opened;
      writeDelta(response, "answer");
      finishStream(response);
    });
    // The SDK hides SSE comments, so a tap on the raw bytes tells when a heartbeat has gone by.
    const tapped: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (response.body === null) return response;
      const decoder = new TextDecoder();
      const tap = new TransformStream<Uint8Array, Uint8Array>({
        transform(bytes, controller) {
          if (decoder.decode(bytes, { stream: true }).includes(": heartbeat")) release.open();
          controller.enqueue(bytes);
        },
      });
      return new Response(response.body.pipeThrough(tap), { status: response.status, headers: response.headers });
    };
    const client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", fetch: tapped, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "fake-model", stream: true, messages: [{ role: "user", content: "take your time" }] });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "slow answer");
  });

  it("cancels the upstream request when the client disconnects", async () => {
    const started = gate();
    fake.queue.push((response) => {
      startStream(response);
      writeDelta(response, "partial ");
      started.open();
    });
    const controller = new AbortController();
    const response = await fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "long answer please", stream: true }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    await started.opened;
    controller.abort();
    const upstream = completions().at(-1);
    assert.ok(upstream);
    await upstream.aborted;
    // The service counts the turn once its own handler has unwound; wait for that, however long it takes.
    let metrics = "";
    while (!/assistant_chat_turns_total\{endpoint="chat",outcome="aborted"\} [1-9]/.test(metrics)) {
      metrics = await (await fetch(`${service.url}/metrics`)).text();
    }
    assert.match(metrics, /assistant_model_request_duration_seconds_count\{provider="openai",model="fake-model",outcome="aborted"\} [1-9]/);

    // A whole answer asked for a client that then goes away is cancelled as well.
    const asked = gate();
    fake.queue.push(() => {
      asked.open();
    });
    const plain = new AbortController();
    const pending = fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "a long whole answer please" }),
      signal: plain.signal,
    }).catch(() => undefined);
    await asked.opened;
    plain.abort();
    await pending;
    const whole = completions().at(-1);
    assert.equal(whole?.body?.["stream"], false);
    assert.ok(whole);
    await whole.aborted;
  });

  it("gives the model masked personal data by default, and stores and logs only masked text", async () => {
    const { body } = await postJson(
      `${service.url}/api/v1/chat`,
      { message: "我的手机是13812345678，邮箱 zhang@example.com" },
      { "x-request-id": "masking-check" },
    );
    const sent = completions().at(-1)?.body?.["messages"] as { content: string }[];
    assert.ok(sent.at(-1)?.content.endsWith("\n\nQuestion: 我的手机是138****5678，邮箱 z***@example.com"), sent.at(-1)?.content);
    const stored = (await (await fetch(`${service.url}/api/v1/conversations/${(body as ChatReply).conversationId}`)).json()) as {
      title: string;
      turns: { content: string }[];
    };
    assert.equal(stored.turns[0]?.content, "我的手机是138****5678，邮箱 z***@example.com");
    assert.equal(stored.title, "我的手机是138****5678，邮箱 z***@example.com");
    await waitForLog(service, (line) => line.includes("masking-check") && line.includes("request completed"));
    const logs = service.logs.join("\n");
    assert.ok(!logs.includes("13812345678"));
    assert.ok(!logs.includes("zhang@example.com"));
    assert.ok(!logs.includes("sk-test-secret"));
    assert.match(logs, /"remoteAddress":"127\.0\.\*\.\*"/);
    assert.doesNotMatch(logs, /"remoteAddress":"127\.0\.0\.1"/);
  });

  it("masks client-sent history on the stateless endpoint before it reaches the model", async () => {
    const { status } = await postJson(`${service.url}/v1/chat/completions`, {
      model: "fake-model",
      messages: [
        { role: "user", content: "我的邮箱是 li@example.com" },
        { role: "assistant", content: "好的" },
        { role: "user", content: "call me on +14155552671" },
      ],
    });
    assert.equal(status, 200);
    const sent = completions().at(-1)?.body?.["messages"] as { role: string; content: string }[];
    assert.deepEqual(
      sent.slice(1, -1).map((message) => message.content),
      ["我的邮箱是 l***@example.com", "好的"],
    );
    assert.ok(sent.at(-1)?.content.endsWith("\n\nQuestion: call me on +141****2671"), sent.at(-1)?.content);
  });

  it("keeps its connection to the model server alive from one request to the next", async () => {
    for (const message of ["first question", "second question", "third question"]) {
      assert.equal((await postJson(`${service.url}/api/v1/chat`, { message })).status, 200);
    }
    const ports = new Set(completions().map((request) => request.remotePort));
    assert.equal(ports.size, 1, `connections from ports ${[...ports].join(", ")}`);
  });

  it("holds many model requests in flight at once: no pool queues one behind another", async () => {
    const inFlight = 40;
    const release = gate();
    for (let index = 0; index < inFlight; index += 1) {
      fake.queue.push(async (response, request) => {
        await release.opened;
        await streamReply(["together"])(response, request);
      });
    }
    const replies = Array.from({ length: inFlight }, (_, index) => postJson(`${service.url}/v1/chat/completions`, { model: "m", messages: [{ role: "user", content: `question ${index}` }] }));
    // Every request reaches the model server while none has been answered; a capped pool would wait here forever.
    while (completions().length < inFlight) await new Promise((resolve) => setTimeout(resolve, 10));
    release.open();
    for (const { status, body } of await Promise.all(replies)) {
      assert.equal(status, 200);
      assert.equal((body as { choices: { message: { content: string } }[] }).choices[0]?.message.content, "together");
    }
  });

  it("reads a stream, or a whole answer, cut into pieces anywhere, even inside a character", async () => {
    const text = "年假有五天，病假另计。";
    const inPieces: Behaviour = async (response, request) => {
      const streamed = request.body?.["stream"] === true;
      response.writeHead(200, { "content-type": streamed ? "text/event-stream" : "application/json" });
      const wire = Buffer.from(
        streamed
          ? `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "fake-model", choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\r\n\r\ndata: [DONE]\r\n\r\n`
          : JSON.stringify({ id: "c", object: "chat.completion", created: 1, model: "fake-model", choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }] }),
      );
      for (let offset = 0; offset < wire.length; offset += 5) {
        response.write(wire.subarray(offset, offset + 5));
        await new Promise((resolve) => setImmediate(resolve));
      }
      response.end();
    };
    fake.queue.push(inPieces, inPieces);
    const { status, body } = await postJson(`${service.url}/api/v1/chat`, { message: "how many days of leave?" });
    assert.equal(status, 200);
    assert.equal((body as ChatReply).reply, text);
    let streamedReply = "";
    for await (const event of sseEvents(await streamedChat("how many days of leave, streamed?", service))) {
      if (event.event === "delta") streamedReply += (JSON.parse(event.data) as { text: string }).text;
    }
    assert.equal(streamedReply, text);
    assert.deepEqual(completions().map((request) => request.body?.["stream"]), [false, true]);
  });

  it("answers 502 when the model server's whole answer is not JSON", async () => {
    fake.queue.push((response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end("<html>gateway page</html>");
    });
    const { status, body } = await postJson(`${service.url}/api/v1/chat`, { message: "a question answered badly" });
    assert.equal(status, 502);
    assert.equal((body as { error: { code: string } }).error.code, "model_unavailable");
  });

  it("ends a client's stream with an error when the model server reports one inside its stream", async () => {
    fake.queue.push((response) => {
      startStream(response);
      writeDelta(response, "partial ");
      response.end(`data: ${JSON.stringify({ error: { message: "the model crashed", type: "server_error" } })}\n\n`);
    });
    const events = await streamedChatEvents("a question the model fails on", service);
    assert.deepEqual(events.map((event) => event.event), ["start", "delta", "error"]);
    assert.match(events.at(-1)?.data ?? "", /model_unavailable/);
  });

  it("answers 502 when the model server's whole answer breaks off, and ends a client's stream with an error when its stream does before [DONE]", async () => {
    const cut: Behaviour = (response, request) => {
      // Cut once the headers and a piece are out: a connection that fails before its headers is retried.
      if (request.body?.["stream"] !== true) {
        response.writeHead(200, { "content-type": "application/json" });
        response.write('{"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "half an ans', () => response.socket?.destroy());
        return;
      }
      startStream(response);
      writeDelta(response, "half an ans");
      response.write(": cut\n\n", () => response.socket?.destroy());
    };
    fake.queue.push(cut);
    assert.equal((await postJson(`${service.url}/api/v1/chat`, { message: "a question cut short" })).status, 502);
    fake.queue.push(cut);
    const response = await fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "a streamed question cut short", stream: true }),
    });
    const events: string[] = [];
    for await (const event of sseEvents(response)) if (event.event !== ":") events.push(event.event);
    assert.deepEqual(events, ["start", "delta", "error"]);
  });

  /**
   * A service of its own that gives the model `timeoutMs` per attempt of a stream, `answerTimeoutMs`
   * for a whole answer, and `maxRetries` more attempts.
   */
  const impatientService = (maxRetries: number, timeoutMs: number, answerTimeoutMs = 300000) =>
    startService({
      config: {
        model: { provider: "openai", baseURL: fake.baseURL, name: "fake-model", maxRetries, timeoutMs, answerTimeoutMs, readinessCacheMs: 600000 },
        knowledge: { abstention: { enabled: false } },
      },
    });

  it("gives a whole answer one deadline for all its attempts and its body", async () => {
    const slow = await impatientService(2, 5000, 1000);
    try {
      const overloaded = errorReply(503, "overloaded", "overloaded");
      fake.queue.push(async (response, request) => {
        await new Promise((resolve) => setTimeout(resolve, 600));
        await overloaded(response, request);
      }, () => undefined);
      const started = Date.now();
      const { status } = await postJson(`${slow.url}/api/v1/chat`, { message: "anyone there now?" });
      const took = Date.now() - started;
      assert.equal(status, 502);
      assert.equal(completions().length, 2, "the 503 was retried");
      // 600 ms for the 503, then the retry had what was left of 1,000 ms, not 1,000 ms more.
      assert.ok(took >= 1000 && took < 1400, `answered after ${took} ms`);
    } finally {
      await slow.stop();
    }
  });

  it("answers 502, never 500, to whole answers that are not what the wire format says", async () => {
    const bodies = ["null", "[]", '{"choices": null}', '{"choices": [{"message": {"content": 42}}]}', '{"choices": [{"message": {"content": "Use the VPN client [1]."}}], "usage": null}'];
    for (const body of bodies) {
      fake.queue.push((response) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(body);
      });
      const { status } = await postJson(`${service.url}/api/v1/chat`, { message: `How do I connect to the VPN? (${body})` });
      assert.equal(status, body.includes("Use the VPN") ? 200 : 502, body);
    }
  });

  it("refuses a whole answer larger than any model is asked for", async () => {
    fake.queue.push((response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"choices": [{"message": {"content": "');
      response.end(`${"x".repeat(17 * 1024 * 1024)}"}}]}`);
    });
    const { status, body } = await postJson(`${service.url}/api/v1/chat`, { message: "an answer too long" });
    assert.equal(status, 502);
    assert.equal((body as { error: { code: string } }).error.code, "model_unavailable");
  });

  it("times out a model server that never answers, retries a stream but not a whole answer, then answers 502; sends no key when none is configured", async () => {
    const slow = await impatientService(1, 200, 400);
    try {
      const silent: Behaviour = () => undefined;
      fake.queue.push(silent, silent);
      assert.deepEqual((await streamedChatEvents("anyone there?", slow)).map((event) => event.event), ["start", "error"]);
      assert.equal(completions().length, 2);

      fake.queue.push(silent, silent);
      const started = Date.now();
      const { status, body } = await postJson(`${slow.url}/api/v1/chat`, { message: "anyone there at all?" });
      assert.equal(status, 502);
      assert.equal((body as { error: { code: string } }).error.code, "model_unavailable");
      // A model that did not finish an answer within answerTimeoutMs is not asked again.
      assert.equal(completions().length, 3);
      assert.ok(Date.now() - started >= 400, "the whole answer has answerTimeoutMs, not timeoutMs");
      assert.ok(fake.requests.every((request) => request.authorization === undefined));
    } finally {
      await slow.stop();
    }
  });

  it("gives up on a model stream that goes quiet mid-answer for longer than the timeout, and on a whole answer that stops half sent", async () => {
    const slow = await impatientService(0, 300, 300);
    try {
      const stalled = gate();
      fake.queue.push(async (response) => {
        startStream(response);
        writeDelta(response, "the first half, then");
        await stalled.opened;
        response.end();
      });
      assert.deepEqual((await streamedChatEvents("a question the model stalls on", slow)).map((event) => event.event), ["start", "delta", "error"]);

      fake.queue.push(async (response) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.write('{"id": "c", "object": "chat.completion", "choices": [');
        await stalled.opened;
        response.end();
      });
      const { status, body } = await postJson(`${slow.url}/api/v1/chat`, { message: "a question the model stalls on, whole" });
      stalled.open();
      assert.equal(status, 502);
      assert.equal((body as { error: { code: string } }).error.code, "model_unavailable");
    } finally {
      await slow.stop();
    }
  });

  it("reports not ready when the model endpoint is unreachable", async () => {
    const down = await startService({
      skipReady: true,
      config: { model: { provider: "openai", baseURL: "http://127.0.0.1:9/v1", name: "m", readinessCacheMs: 0, timeoutMs: 1000 } },
    });
    try {
      const response = await fetch(`${down.url}/readyz`);
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), { status: "not_ready", checks: { draining: false, storage: true, knowledge: true, model: false } });
      assert.equal((await fetch(`${down.url}/healthz`)).status, 200);
    } finally {
      await down.stop();
    }
  });
});

describe("openai model provider with abstention (the default)", () => {
  let fake: FakeOpenAI;
  let service: RunningService;
  before(async () => {
    fake = await startFakeOpenAI();
    service = await startService({
      knowledge: KNOWLEDGE,
      config: { model: { provider: "openai", baseURL: fake.baseURL, name: "fake-model", maxRetries: 0, timeoutMs: 10000 } },
    });
  });
  after(async () => {
    await service.stop();
    await fake.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.queue.length = 0;
  });
  const completions = () => fake.requests.filter((request) => request.path === "/v1/chat/completions");
  const declines = async (): Promise<string[]> => (await (await fetch(`${service.url}/metrics`)).text()).match(/^assistant_answers_declined_total\{reason="\w+"\} \d+$/gm) ?? [];

  it("asks no model when the knowledge base does not answer, and says so, ungrounded and uncited, in the user's language", async () => {
    const { status, body } = await postJson(`${service.url}/api/v1/chat`, { message: "What port does the billing service listen on?" });
    assert.equal(status, 200);
    assert.deepEqual({ ...(body as ChatReply), conversationId: "" }, {
      reply: "I could not find the answer to this in the knowledge base. Try rephrasing the question, or ask an administrator to add the relevant documents.",
      conversationId: "",
      sources: [],
      grounded: false,
    });
    const zh = (await postJson(`${service.url}/api/v1/chat`, { message: "公司食堂的菜单在哪里看？" })).body as ChatReply;
    assert.match(zh.reply, /^抱歉，知识库中没有找到/);
    const openai = (await postJson(`${service.url}/v1/chat/completions`, { model: "fake-model", messages: [{ role: "user", content: "Who won the 1998 World Cup?" }] })).body as { grounded: boolean };
    assert.equal(openai.grounded, false);
    assert.equal(completions().length, 0);
    assert.deepEqual(await declines(), ['assistant_answers_declined_total{reason="evidence"} 3']);
  });

  it("marks a model's reply grounded only when it cites a passage", async () => {
    fake.queue.push(streamReply(["Install the client, then sign in [1]."]), streamReply(["I am not sure."]));
    const cited = (await postJson(`${service.url}/api/v1/chat`, { message: "How do I connect to the VPN?" })).body as ChatReply;
    assert.deepEqual([cited.grounded, cited.sources[0]?.source], [true, "it/vpn.md"]);
    const uncited = (await postJson(`${service.url}/api/v1/chat`, { message: "How do I connect to the VPN?" })).body as ChatReply;
    assert.equal(uncited.grounded, false);
    assert.ok((await declines()).includes('assistant_answers_declined_total{reason="model"} 1'));
  });

  it("counts tokens by estimate when the upstream sends no usage, streamed or whole", async () => {
    const noUsage: Behaviour = (response, request) => {
      if (request.body?.["stream"] !== true) {
        completionReply(response, { content: "Install the client [1]." }, null);
        return;
      }
      startStream(response);
      writeDelta(response, "Install the client [1].");
      finishStream(response, null);
    };
    fake.queue.push(noUsage, noUsage);
    const { body } = await postJson(`${service.url}/api/v1/chat`, { message: "How do I connect to the VPN?" });
    let streamedId = "";
    for await (const event of sseEvents(await streamedChat("How do I connect to the VPN?", service))) {
      if (event.event === "start") streamedId = (JSON.parse(event.data) as { conversationId: string }).conversationId;
    }
    for (const conversationId of [(body as ChatReply).conversationId, streamedId]) {
      const conversation = (await (await fetch(`${service.url}/api/v1/conversations/${conversationId}`)).json()) as {
        turns: { promptTokens: number | null; completionTokens: number | null }[];
      };
      const { promptTokens, completionTokens } = conversation.turns[1] ?? {};
      assert.ok(promptTokens !== null && promptTokens !== undefined && promptTokens > 20, String(promptTokens));
      assert.equal(completionTokens, 6);
    }
  });

  it("answers 502 model_empty when the model says nothing, and stores nothing", async () => {
    fake.queue.push(
      (response) => {
        completionReply(response, { content: "" });
      },
      (response) => {
        completionReply(response, { content: null });
      },
    );
    const before = (await (await fetch(`${service.url}/api/v1/conversations?limit=100`)).json()) as { items: unknown[] };
    for (const message of ["How do I connect to the VPN?", "How do I connect to the VPN, again?"]) {
      const { status, body } = await postJson(`${service.url}/api/v1/chat`, { message });
      assert.equal(status, 502);
      assert.deepEqual(body, { error: { code: "model_empty", message: "the model answered with no text, try again later" } });
    }
    fake.queue.push((response) => {
      startStream(response);
      finishStream(response);
    });
    assert.deepEqual((await streamedChatEvents("How do I connect to the VPN, streamed?", service)).map((event) => event.event), ["start", "error"]);
    const after = (await (await fetch(`${service.url}/api/v1/conversations?limit=100`)).json()) as { items: unknown[] };
    assert.equal(after.items.length, before.items.length);
  });
});
