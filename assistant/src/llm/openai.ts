import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import type { ModelConfig } from "../config/schema.js";
import { estimateTokens } from "../retrieval/text.js";
import type { ChatMessage, ModelEvent, ModelProvider, ToolCall, ToolSpec } from "./types.js";
import { estimatePromptTokens, ModelUnavailableError } from "./types.js";
import { openaiClient } from "./upstream.js";

function wireMessage(message: ChatMessage): ChatCompletionMessageParam {
  if (message.role === "tool") return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  if (message.role === "assistant" && message.toolCalls !== undefined && message.toolCalls.length > 0) {
    return {
      role: "assistant",
      content: message.content === "" ? null : message.content,
      tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } })),
    };
  }
  return { role: message.role, content: message.content };
}

const wireTool = (tool: ToolSpec): ChatCompletionTool => ({
  type: "function",
  function: { name: tool.name, description: tool.description, parameters: tool.parameters },
});

type ToolCallDelta = NonNullable<ChatCompletionChunk.Choice.Delta["tool_calls"]>[number];

/** Streamed tool calls arrive in pieces keyed by index: the id and name first, the arguments in fragments. */
function collectToolCall(calls: Map<number, ToolCall>, piece: ToolCallDelta): void {
  const call = calls.get(piece.index) ?? { id: "", name: "", arguments: "" };
  calls.set(piece.index, {
    id: piece.id ?? call.id,
    name: call.name + (piece.function?.name ?? ""),
    arguments: call.arguments + (piece.function?.arguments ?? ""),
  });
}

/** Usage as the model would count it, for a server that reports none. */
function estimatedUsage(promptTokens: number, completion: string, calls: readonly ToolCall[]): ModelEvent {
  const called = calls.map((call) => `${call.name}${call.arguments}`).join("");
  return { type: "usage", promptTokens, completionTokens: estimateTokens(completion + called) };
}

/**
 * The events of one model stream. `promptTokens` is the prompt's estimated size, counted when the
 * server reports no usage (some llama.cpp builds ignore stream_options.include_usage).
 */
async function* modelEvents(accepted: Promise<AsyncIterable<ChatCompletionChunk>>, signal: AbortSignal, promptTokens: number): AsyncGenerator<ModelEvent> {
  let stream;
  try {
    stream = await accepted;
  } catch (error) {
    if (signal.aborted) return;
    throw new ModelUnavailableError(`model endpoint failed: ${(error as Error).message}`, { cause: error });
  }
  const toolCalls = new Map<number, ToolCall>();
  let completion = "";
  let usageSent = false;
  try {
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      const text = delta?.content;
      if (typeof text === "string" && text !== "") {
        completion += text;
        yield { type: "delta", text };
      }
      for (const piece of delta?.tool_calls ?? []) collectToolCall(toolCalls, piece);
      if (chunk.usage) {
        usageSent = true;
        yield { type: "usage", promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      }
    }
    if (!usageSent) yield estimatedUsage(promptTokens, completion, [...toolCalls.values()]);
    if (toolCalls.size > 0) yield { type: "tool_calls", calls: [...toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call) };
  } catch (error) {
    if (signal.aborted) return;
    throw new ModelUnavailableError(`model stream failed: ${(error as Error).message}`, { cause: error });
  }
}

/** The events of one whole answer, as `modelEvents` makes them of a stream: its text as one delta. */
async function* answerEvents(answered: Promise<unknown>, signal: AbortSignal, promptTokens: number): AsyncGenerator<ModelEvent> {
  let body: unknown;
  try {
    body = await answered;
  } catch (error) {
    if (signal.aborted) return;
    throw new ModelUnavailableError(`model endpoint failed: ${(error as Error).message}`, { cause: error });
  }
  // A server's body is trusted for nothing: without choices or text the dialog reports an empty reply.
  const completion = (typeof body === "object" && body !== null ? body : {}) as Partial<ChatCompletion>;
  const message = Array.isArray(completion.choices) ? completion.choices[0]?.message : undefined;
  const text = typeof message?.content === "string" ? message.content : "";
  const calls = (Array.isArray(message?.tool_calls) ? message.tool_calls : []).flatMap((call): ToolCall[] => {
    // Some servers leave out the call's type, as they do in a stream.
    const named = (call as { id?: unknown; function?: { name?: unknown; arguments?: unknown } | null }).function;
    if (typeof named?.name !== "string") return [];
    return [{ id: typeof call.id === "string" ? call.id : "", name: named.name, arguments: typeof named.arguments === "string" ? named.arguments : "" }];
  });
  if (text !== "") yield { type: "delta", text };
  const usage = completion.usage;
  yield typeof usage?.prompt_tokens === "number" && typeof usage.completion_tokens === "number"
    ? { type: "usage", promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens }
    : estimatedUsage(promptTokens, text, calls);
  if (calls.length > 0) yield { type: "tool_calls", calls };
}

/**
 * Any OpenAI-compatible endpoint (vLLM, Ollama, OpenAI, DeepSeek, Qwen), streamed when the reply is
 * (the client's own stream), else asked for whole (upstream.ts, completeChat). The client
 * (upstream.ts) owns the timeout and the retries with exponential backoff on 408/409/429/5xx
 * (honouring Retry-After).
 */
export function openaiProvider(config: ModelConfig, apiKey: string | undefined): ModelProvider {
  const model = config.name ?? "";
  // The schema requires baseURL with this provider; OpenAI's own API is the SDK's default, kept here.
  const client = openaiClient({
    baseURL: config.baseURL ?? "https://api.openai.com/v1",
    apiKey,
    timeoutMs: config.timeoutMs,
    answerTimeoutMs: config.answerTimeoutMs,
    maxRetries: config.maxRetries,
  });
  let readiness: { at: number; ok: boolean } | undefined;

  return {
    provider: "openai",
    model,
    generate(request) {
      const { signal } = request;
      const promptTokens = estimatePromptTokens(request.messages);
      const params = {
        model,
        messages: request.messages.map(wireMessage),
        ...(request.tools.length === 0 ? {} : { tools: request.tools.map(wireTool) }),
        ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
        ...(config.topP === undefined ? {} : { top_p: config.topP }),
        // max_completion_tokens is OpenAI's newer name, but vLLM, Ollama and DeepSeek read max_tokens.
        ...(config.maxTokens === undefined ? {} : { max_tokens: config.maxTokens }),
      };
      // Sent now, and serialized before anything waits: the events below hold neither the request nor
      // its messages while the model works (minutes, for a long answer), and the passages in the
      // prompt are the most a chat holds meanwhile. The catches only keep a caller that never reads
      // the events from an unhandled rejection; the events await the promise.
      if (!request.stream) {
        const answered = client.completeChat({ ...params, stream: false }, signal);
        answered.catch(() => undefined);
        return answerEvents(answered, signal, promptTokens);
      }
      const accepted = client.streamChat({ ...params, stream: true, stream_options: { include_usage: true } }, signal);
      accepted.catch(() => undefined);
      return modelEvents(accepted, signal, promptTokens);
    },
    async ready() {
      const now = Date.now();
      if (readiness !== undefined && now - readiness.at < config.readinessCacheMs) return readiness.ok;
      let ok: boolean;
      try {
        await client.listModels(Math.min(config.timeoutMs, 5000));
        ok = true;
      } catch {
        ok = false;
      }
      readiness = { at: now, ok };
      return ok;
    },
  };
}
