import type { IncomingHttpHeaders } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { errors, Pool, type Dispatcher } from "undici";
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from "openai/resources/chat/completions";
import { SseDecoder } from "./sse-decoder.js";

/**
 * The HTTP client to an OpenAI-compatible model server. It replaces the official SDK on the chat
 * path: the SDK goes through fetch and web streams, which cost more CPU per request than everything
 * else the assistant does for a chat completion, for the same wire protocol. It keeps what the service
 * relied on the SDK for: a timeout per attempt and retries with exponential backoff on connection
 * errors, timeouts, 408, 409, 429 and 5xx, honouring Retry-After (and OpenAI's retry-after-ms and
 * x-should-retry).
 */
export interface UpstreamOptions {
  /** The API root, such as http://vllm:8000/v1: requests go to its path + /chat/completions. */
  baseURL: string;
  /** Sent as a bearer token; without one no Authorization header is sent (Ollama, a local vLLM). */
  apiKey?: string | undefined;
  /**
   * Per attempt, for the response headers to arrive, and then for each pause between pieces of a stream.
   * undici checks them on a coarse clock, which costs less than a timer per request: they fire up to a second late.
   */
  timeoutMs: number;
  maxRetries: number;
}

export interface OpenAIClient {
  /** Resolves once the server has accepted the request, after retries; the chunks follow as they arrive. */
  streamChat(body: ChatCompletionCreateParamsStreaming, signal: AbortSignal): Promise<AsyncIterable<ChatCompletionChunk>>;
  /** Resolves when GET /models answers 2xx within `timeoutMs`, in one attempt. */
  listModels(timeoutMs: number): Promise<void>;
}

/** The model server refused, failed or could not be reached; `status` is its HTTP status when it answered. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const RETRIED_STATUSES = new Set([408, 409, 429]);
/** Enough of an error body for its message; the rest is not read. */
const ERROR_BODY_BYTES = 16384;
const MAX_SERVER_DELAY_MS = 60000;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function retryable(status: number, headers: IncomingHttpHeaders): boolean {
  const should = header(headers, "x-should-retry");
  if (should === "true") return true;
  if (should === "false") return false;
  return RETRIED_STATUSES.has(status) || status >= 500;
}

/** The server's wait when it names a sensible one, else 0.5 s doubling per retry up to 8 s, less up to a quarter (jitter). */
function retryDelayMs(retry: number, headers: IncomingHttpHeaders = {}): number {
  const milliseconds = header(headers, "retry-after-ms");
  const after = header(headers, "retry-after");
  let asked = milliseconds === undefined ? Number.NaN : Number(milliseconds);
  if (Number.isNaN(asked) && after !== undefined) {
    const seconds = Number(after);
    asked = Number.isNaN(seconds) ? Date.parse(after) - Date.now() : seconds * 1000;
  }
  if (asked >= 0 && asked < MAX_SERVER_DELAY_MS) return asked;
  return Math.min(500 * 2 ** retry, 8000) * (1 - Math.random() * 0.25);
}

/** The message of an OpenAI error body ({"error": {"message"}}), else the start of the body. */
async function errorMessage(body: Dispatcher.ResponseData["body"]): Promise<string> {
  let text = "";
  try {
    for await (const piece of body as AsyncIterable<Buffer>) {
      text += piece.toString("utf8");
      if (text.length >= ERROR_BODY_BYTES) break;
    }
  } catch {
    // what arrived is all there is to say
  } finally {
    body.destroy();
  }
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string };
    const message = typeof parsed.error === "string" ? parsed.error : parsed.error?.message;
    if (typeof message === "string") return message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

function failure(error: unknown, timeoutMs: number): UpstreamError {
  if (error instanceof errors.HeadersTimeoutError) return new UpstreamError(`no answer within ${timeoutMs} ms`, undefined, { cause: error });
  return new UpstreamError(`cannot reach the model server: ${(error as Error).message}`, undefined, { cause: error });
}

/** The chunks of an SSE chat completion stream, until data: [DONE]. */
async function* completionChunks(body: Dispatcher.ResponseData["body"]): AsyncGenerator<ChatCompletionChunk> {
  const decoder = new SseDecoder();
  let done = false;
  try {
    body.setEncoding("utf8");
    for await (const text of body as AsyncIterable<string>) {
      // After [DONE] the rest is read, not parsed: a body read to its end lets the connection serve the next request.
      if (done) continue;
      for (const event of decoder.push(text)) {
        if (event.data === "[DONE]") {
          done = true;
          break;
        }
        const chunk = JSON.parse(event.data) as ChatCompletionChunk & { error?: { message?: unknown } };
        // Servers report a failure after the 200 inside the stream, as an error object.
        if (event.event === "error" || chunk.error !== undefined) {
          const message = typeof chunk.error?.message === "string" ? chunk.error.message : event.data.slice(0, 200);
          throw new UpstreamError(`the model server failed mid-stream: ${message}`);
        }
        yield chunk;
      }
    }
  } finally {
    // A consumer that stopped early, or an error: the connection cannot be reused with a response half read.
    if (!body.readableEnded) body.destroy();
  }
}

export function openaiClient(options: UpstreamOptions): OpenAIClient {
  const base = new URL(options.baseURL);
  const root = base.pathname.replace(/\/+$/, "");
  // One pool per model server. No cap on its connections: each request in flight holds one for as long
  // as the model takes, so a cap would queue users behind each other inside the gateway.
  const pool = new Pool(base.origin);
  const authorization: Record<string, string> = options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
  const chatHeaders = { ...authorization, "content-type": "application/json", accept: "text/event-stream" };
  const modelsHeaders = { ...authorization, accept: "application/json" };

  /** Sends until a 2xx, a status not worth retrying, or the retries are spent. */
  async function send(request: Dispatcher.RequestOptions, retries: number, timeoutMs: number): Promise<Dispatcher.ResponseData> {
    const signal = request.signal as AbortSignal | undefined;
    for (let retry = 0; ; retry += 1) {
      let response: Dispatcher.ResponseData;
      try {
        response = await pool.request({ ...request, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      } catch (error) {
        if (signal?.aborted === true || retry >= retries) throw signal?.aborted === true ? error : failure(error, timeoutMs);
        await sleep(retryDelayMs(retry), undefined, { signal });
        continue;
      }
      const status = response.statusCode;
      if (status >= 200 && status < 300) return response;
      const message = await errorMessage(response.body);
      if (retry >= retries || !retryable(status, response.headers)) throw new UpstreamError(`${status} ${message}`, status);
      await sleep(retryDelayMs(retry, response.headers), undefined, { signal });
    }
  }

  return {
    async streamChat(body, signal) {
      const response = await send(
        // As bytes: undici keeps the body until the response ends, and a Buffer of the prompt sits outside
        // the JS heap, where each young-generation collection would otherwise copy it while the model works.
        { origin: base.origin, path: `${root}/chat/completions`, method: "POST", headers: chatHeaders, body: Buffer.from(JSON.stringify(body)), signal },
        options.maxRetries,
        options.timeoutMs,
      );
      return completionChunks(response.body);
    },
    async listModels(timeoutMs) {
      const response = await send({ origin: base.origin, path: `${root}/models`, method: "GET", headers: modelsHeaders }, 0, timeoutMs);
      await response.body.dump();
    },
  };
}
