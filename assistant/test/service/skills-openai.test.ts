import assert from "node:assert/strict";
import OpenAI from "openai";
import { apiClient } from "../support/client.js";
import { ERP_AUTHORIZATION, erpSkillsConfig, startErp, type ErpServer } from "../support/erp-skill.js";
import { completionReply, startFakeOpenAI, streamReply, toolCallReply, type FakeOpenAI } from "../support/fake-openai.js";
import { sseEvents, startService, type RunningService } from "../support/service.js";

interface WireMessage {
  role: string;
  content: string | null;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

interface ChatReply {
  reply: string;
  conversationId: string;
}

describe("skills as tools of an OpenAI-compatible model", function () {
  this.timeout(60000);
  let fake: FakeOpenAI;
  let erp: ErpServer;
  let service: RunningService;
  let call: ReturnType<typeof apiClient>;
  before(async () => {
    fake = await startFakeOpenAI();
    erp = await startErp();
    service = await startService({
      config: {
        model: { provider: "openai", baseURL: fake.baseURL, name: "fake-model", maxRetries: 0 },
        ...erpSkillsConfig(erp),
        skillOptions: { allowPrivateNetworks: true, maxSteps: 2 },
      },
      env: { SKILL_CREATE_RETURN_AUTHORIZATION: ERP_AUTHORIZATION },
    });
    call = apiClient(service.url);
  });
  after(async () => {
    await service.stop();
    await fake.close();
    await erp.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.queue.length = 0;
    erp.requests.length = 0;
  });

  const completions = () => fake.requests.filter((request) => request.path === "/v1/chat/completions");
  const messagesOf = (index: number) => (completions()[index]?.body?.["messages"] ?? []) as WireMessage[];
  const lookup = (id: string, orderId: string) => ({ id, name: "lookup-order", arguments: JSON.stringify({ orderId }) });

  it("offers the skills as functions, runs the call, and feeds the masked result back to the model", async () => {
    fake.queue.push(toolCallReply([lookup("call_1", "A-1001")]), streamReply(["Order A-1001 ", "has shipped."]));
    const { status, body } = await call<ChatReply>("POST", "/api/v1/chat", { message: "Where is my order A-1001?" });
    assert.equal(status, 200);
    assert.equal(body.reply, "Order A-1001 has shipped.");
    const tools = completions()[0]?.body?.["tools"] as { type: string; function: { name: string; description: string; parameters: unknown } }[];
    assert.equal(tools[0]?.type, "function");
    assert.equal(tools[0]?.function.name, "lookup-order");
    assert.deepEqual(tools[0]?.function.parameters, erpSkillsConfig(erp).skills[0]?.["parameters"]);
    assert.match(tools.find((tool) => tool.function.name === "create-return")?.function.description ?? "", /runs only after the user confirms/);
    const [assistantTurn, toolTurn] = messagesOf(1).slice(-2);
    assert.deepEqual(assistantTurn, {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup-order", arguments: '{"orderId":"A-1001"}' } }],
    });
    assert.equal(toolTurn?.role, "tool");
    assert.equal(toolTurn?.tool_call_id, "call_1");
    assert.match(toolTurn?.content ?? "", /"phone":"138\*{4}5678"/);
    assert.equal(erp.requests.length, 1);
    const lines = service.logs.filter((line) => line.includes('"msg":"skill call"') && line.includes('"via":"model"'));
    assert.equal(lines.length, 1);
  });

  it("runs a tool call that a whole answer carries without its type, as some servers send it", async () => {
    const untyped = { id: "call_t", function: { name: "lookup-order", arguments: '{"orderId":"A-1001"}' } };
    fake.queue.push((response) => {
      completionReply(response, { content: null, tool_calls: [untyped] }, { prompt_tokens: 30, completion_tokens: 5 }, "tool_calls");
    }, streamReply(["Order A-1001 has shipped."]));
    const asked = erp.requests.length;
    const { status, body } = await call<ChatReply>("POST", "/api/v1/chat", { message: "Where is my order A-1001?" });
    assert.equal(status, 200);
    assert.equal(body.reply, "Order A-1001 has shipped.");
    assert.equal(erp.requests.length, asked + 1);
    assert.equal(completions()[0]?.body?.["stream"], false);
  });

  it("runs calls the model asks for together in parallel, answering each by its id, while streaming", async () => {
    fake.queue.push(toolCallReply([lookup("call_a", "A-1001"), lookup("call_b", "A-1002")]), streamReply(["Both found."]));
    const response = await fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ message: "Compare orders A-1001 and A-1002" }),
    });
    let reply = "";
    for await (const event of sseEvents(response)) {
      if (event.event === "delta") reply += (JSON.parse(event.data) as { text: string }).text;
    }
    assert.equal(reply, "Both found.");
    const toolTurns = messagesOf(1).filter((message) => message.role === "tool");
    assert.deepEqual(
      toolTurns.map((message) => [message.tool_call_id, (JSON.parse(message.content ?? "") as { orderId: string }).orderId]),
      [
        ["call_a", "A-1001"],
        ["call_b", "A-1002"],
      ],
    );
    assert.deepEqual(erp.requests.map((request) => request.path).sort(), ["/orders?orderId=A-1001", "/orders?orderId=A-1002"]);
  });

  it("tells the model about invalid arguments and unknown tools, and offers no tools after maxSteps", async () => {
    fake.queue.push(
      toolCallReply([{ id: "c1", name: "lookup-order", arguments: '{"orderId": 1001}' }, { id: "c2", name: "delete-everything", arguments: "{}" }]),
      toolCallReply([{ id: "c3", name: "lookup-order", arguments: "{not json" }]),
      streamReply(["I could not look that up."]),
    );
    const { body } = await call<ChatReply>("POST", "/api/v1/chat", { message: "order 1001?" });
    assert.equal(body.reply, "I could not look that up.");
    const errors = (index: number) => messagesOf(index).filter((message) => message.role === "tool").map((message) => (JSON.parse(message.content ?? "") as { error: { code: string } }).error.code);
    assert.deepEqual(errors(1), ["invalid_arguments", "skill_not_found"]);
    assert.deepEqual(errors(2).slice(-1), ["invalid_arguments"]);
    assert.equal(completions()[2]?.body?.["tools"], undefined);
    assert.equal(erp.requests.length, 0);
  });

  it("never runs a side-effecting skill on the model's word: the reply asks the user to confirm by command", async () => {
    fake.queue.push(toolCallReply([{ id: "c1", name: "create-return", arguments: '{"orderId":"A-1001","reason":"broken"}' }]));
    const asked = await call<ChatReply>("POST", "/api/v1/chat", { message: "I want to return order A-1001, it arrived broken" });
    assert.equal(asked.body.reply, 'create-return changes data, so it runs only after you confirm. To run it, send:\n/confirm create-return {"orderId":"A-1001","reason":"broken"}');
    assert.equal(completions().length, 1);
    assert.equal(erp.requests.length, 0);
    const confirmed = await call<ChatReply>("POST", "/api/v1/chat", {
      message: '/confirm create-return {"orderId":"A-1001","reason":"broken"}',
      conversationId: asked.body.conversationId,
    });
    assert.match(confirmed.body.reply, /"returnId": "R-A-1001"/);
    assert.equal(completions().length, 1, "a command needs no model");
    assert.equal(erp.requests[0]?.headers.authorization, ERP_AUTHORIZATION);
  });

  it("speaks the non-streamed tool-calling format too, as the official SDK reads it", async () => {
    fake.queue.push(toolCallReply([lookup("call_x", "A-1002")]));
    const client = new OpenAI({ baseURL: fake.baseURL, apiKey: "unused", maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: "fake-model",
      messages: [{ role: "user", content: "A-1002?" }],
      tools: [{ type: "function", function: { name: "lookup-order", parameters: { type: "object" } } }],
    });
    const [toolCall] = completion.choices[0]?.message.tool_calls ?? [];
    assert.equal(completion.choices[0]?.finish_reason, "tool_calls");
    assert.deepEqual(toolCall?.type === "function" ? toolCall.function : undefined, { name: "lookup-order", arguments: '{"orderId":"A-1002"}' });
  });
});
