import assert from "node:assert/strict";
import OpenAI from "openai";
import { startService, type RunningService } from "../support/service.js";
import { KNOWLEDGE } from "../support/knowledge.js";

describe("OpenAI-compatible API through the official openai SDK", () => {
  let service: RunningService;
  let client: OpenAI;
  before(async () => {
    service = await startService({ knowledge: KNOWLEDGE });
    client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "not-checked-yet", maxRetries: 0 });
  });
  after(async () => {
    await service.stop();
  });

  it("lists the model", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    assert.deepEqual(models.map((model) => model.id), ["extractive"]);
  });

  it("completes a chat without streaming", async () => {
    const completion = await client.chat.completions.create({
      model: "extractive",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "How do I connect to the VPN?" },
      ],
    });
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    assert.equal(completion.choices[0]?.message.role, "assistant");
    assert.match(completion.choices[0]?.message.content ?? "", /install the client.*\[1\]/);
    assert.ok((completion.usage?.completion_tokens ?? 0) > 0);
    assert.equal(completion.usage?.total_tokens, (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
  });

  it("streams a chat completion ending with [DONE], usage included when asked", async () => {
    const stream = await client.chat.completions.create({
      model: "extractive",
      messages: [{ role: "user", content: [{ type: "text", text: "年假有几天？" }] }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.match(text, /^根据知识库：/);
    assert.match(text, /5天带薪年假/);
    assert.equal(finish, "stop");
    assert.ok((usage?.completion_tokens ?? 0) > 0);
  });

  it("sends [DONE] on the wire", async () => {
    const response = await fetch(`${service.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "x", stream: true, messages: [{ role: "user", content: "hello" }] }),
    });
    const body = await response.text();
    assert.ok(body.trimEnd().endsWith("data: [DONE]"), body);
  });

  it("surfaces bad requests as SDK errors with a 400 status", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "extractive", messages: [{ role: "assistant", content: "no user turn" }] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /last message must be a user message/.test(error.message),
    );
  });
});
