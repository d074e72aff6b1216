import { randomUUID } from "node:crypto";
import type { FromSchema } from "json-schema-to-ts";
import type { ChatMessage } from "../../llm/types.js";
import { ApiError, describeError, errorSchema } from "../errors.js";
import { skillCallerOf } from "../audit.js";
import { callerOf } from "../auth/require-auth.js";
import type { RoutePlugin } from "../context.js";
import { limitRequestChars } from "../request-size.js";
import { disconnectSignal, openSse } from "../sse.js";

/** The request as OpenAI clients send it; what the service does not read is let through. */
const completionBody = {
  type: "object",
  required: ["model", "messages"],
  properties: {
    model: { type: "string", maxLength: 256 },
    messages: {
      type: "array",
      minItems: 1,
      maxItems: 500,
      items: {
        type: "object",
        required: ["role"],
        properties: {
          role: { enum: ["system", "developer", "user", "assistant", "tool"] },
          content: {
            anyOf: [
              { type: "string" },
              { type: "null" },
              {
                type: "array",
                maxItems: 100,
                items: { type: "object", required: ["type"], properties: { type: { type: "string" }, text: { type: "string" } } },
              },
            ],
          },
        },
      },
    },
    stream: { type: "boolean" },
    stream_options: { anyOf: [{ type: "null" }, { type: "object", properties: { include_usage: { type: "boolean" } } }] },
  },
} as const;

type MessageContent = FromSchema<typeof completionBody>["messages"][number]["content"];

function textOf(content: MessageContent): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((part) => (part.type === "text" && typeof part.text === "string" ? part.text : "")).join("");
}

/**
 * OpenAI-compatible chat completions, close enough that the official SDKs work unchanged. Like the
 * OpenAI API it is stateless: the client sends the history, nothing is stored.
 */
export const openaiRoutes: RoutePlugin = (app, context, done) => {
  const { dialog, metrics, limits } = context;
  const created = Math.floor(Date.now() / 1000);

  app.get(
    "/v1/models",
    {
      schema: {
        summary: "OpenAI-compatible model list",
        response: {
          200: {
            type: "object",
            required: ["object", "data"],
            properties: {
              object: { type: "string" },
              data: {
                type: "array",
                items: {
                  type: "object",
                  required: ["id", "object", "created", "owned_by"],
                  properties: { id: { type: "string" }, object: { type: "string" }, created: { type: "integer" }, owned_by: { type: "string" } },
                },
              },
            },
          },
        },
      },
    },
    () => ({ object: "list", data: [{ id: dialog.model, object: "model", created, owned_by: context.provider.provider }] }),
  );

  // The answer has no schema, so that it goes out as built (any field a client may want), and only
  // the body's type is taken from its schema.
  app.post<{ Body: FromSchema<typeof completionBody> }>(
    "/v1/chat/completions",
    {
      config: { audit: true },
      schema: {
        summary: "OpenAI-compatible chat completion (stateless; SSE with data: [DONE] when stream is true)",
        body: completionBody,
        response: { "4xx": errorSchema, "5xx": errorSchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      limitRequestChars("the messages", body.messages, limits.maxRequestChars);
      const { tenant } = callerOf(request);
      const last = body.messages.at(-1);
      const question = textOf(last?.content).trim();
      if (last?.role !== "user" || question === "") {
        throw new ApiError(400, "invalid_request", "the last message must be a user message with text content");
      }
      if (question.length > limits.maxMessageChars) {
        throw new ApiError(400, "message_too_long", `the user message exceeds ${limits.maxMessageChars} characters`);
      }
      const history: ChatMessage[] = body.messages.slice(0, -1).flatMap((message): ChatMessage[] => {
        const content = textOf(message.content);
        if (content === "") return [];
        if (message.role === "user" || message.role === "assistant") return [{ role: message.role, content }];
        if (message.role === "system" || message.role === "developer") return [{ role: "system", content }];
        return [];
      });
      const id = `chatcmpl-${randomUUID()}`;
      const model = dialog.model;
      const now = Math.floor(Date.now() / 1000);

      if (body.stream !== true) {
        try {
          const answer = await dialog.answer(tenant, history, question, disconnectSignal(reply), {}, skillCallerOf(request));
          metrics.chatTurns.inc({ endpoint: "openai", outcome: "ok" });
          return {
            id,
            object: "chat.completion",
            created: now,
            model,
            choices: [{ index: 0, message: { role: "assistant", content: answer.reply, refusal: null }, logprobs: null, finish_reason: "stop" }],
            usage: {
              prompt_tokens: answer.usage.promptTokens,
              completion_tokens: answer.usage.completionTokens,
              total_tokens: answer.usage.promptTokens + answer.usage.completionTokens,
            },
            // An extension (OpenAI clients ignore unknown fields): whether the reply answers from the knowledge base.
            grounded: answer.grounded,
          };
        } catch (error) {
          metrics.chatTurns.inc({ endpoint: "openai", outcome: "error" });
          throw error;
        }
      }

      const sse = openSse(reply, limits.sseHeartbeatMs);
      const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
        JSON.stringify({ id, object: "chat.completion.chunk", created: now, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
      try {
        sse.data(chunk({ role: "assistant", content: "" }, null));
        const answer = await dialog.answer(
          tenant,
          history,
          question,
          sse.signal,
          {
            delta: (text) => {
              sse.data(chunk({ content: text }, null));
            },
          },
          skillCallerOf(request),
        );
        sse.data(chunk({}, "stop"));
        if (body.stream_options?.include_usage === true) {
          const usage = {
            prompt_tokens: answer.usage.promptTokens,
            completion_tokens: answer.usage.completionTokens,
            total_tokens: answer.usage.promptTokens + answer.usage.completionTokens,
          };
          sse.data(JSON.stringify({ id, object: "chat.completion.chunk", created: now, model, choices: [], usage }));
        }
        metrics.chatTurns.inc({ endpoint: "openai", outcome: "ok" });
      } catch (error) {
        metrics.chatTurns.inc({ endpoint: "openai", outcome: sse.signal.aborted ? "aborted" : "error" });
        const { status, body: errorBody } = describeError(error);
        if (status >= 500) request.log.error({ err: error }, "streamed completion failed");
        sse.data(JSON.stringify({ error: { ...errorBody.error, type: status >= 500 ? "server_error" : "invalid_request_error" } }));
      } finally {
        sse.data("[DONE]");
        sse.end();
      }
      return reply;
    },
  );
  done();
};
