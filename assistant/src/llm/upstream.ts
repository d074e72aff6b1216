import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { finished } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { ChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from "openai/resources/chat/completions";
import { readBounded } from "../bounded-body.js";
import { deadline } from "../deadline.js";
import { SseDecoder } from "./sse-decoder.js";

/**
 * The HTTP client to an OpenAI-compatible model server. It replaces the official SDK on the chat
 * path: the SDK goes through fetch and web streams, which cost more CPU per request than everything
 * else the assistant does for a chat completion, for the same wire protocol. It keeps what the service
 * relied on the SDK for: a timeout per attempt and retries with exponential backoff on connection
 * errors, timeouts, 408, 409, 429 and 5xx, honouring Retry-After (and OpenAI's retry-after-ms and
 * x-should-retry).
 *
 * It is Node's own HTTP client with a keep-alive agent, not undici: undici writes a request on a
 * reused connection only in the event loop's check phase, after every I/O callback of the turn, so
 * under load each request to the model waited behind the whole batch (4 ms at the median, 30 ms at
 * p99, with 200 users in flight).
 */
export interface UpstreamOptions {
  /** The API root, such as http://vllm:8000/v1: requests go to its path + /chat/completions. */
  baseURL: string;
  /** Sent as a bearer token; without one no Authorization header is sent (Ollama, a local vLLM). */
  apiKey?: string | undefined;
  /** Per attempt of a stream (and of GET /models), for the response headers to arrive, then for each pause between pieces. */
  timeoutMs: number;
  /** For a whole answer asked without a stream, which the server sends only once it is complete: all attempts and the body together. */
  answerTimeoutMs: number;
  maxRetries: number;
}

export interface OpenAIClient {
  /**
   * Sends at once; resolves once the server has accepted the request, after retries, and the chunks
   * follow as they arrive. `body` is serialized before this returns and not held after.
   */
  streamChat(body: ChatCompletionCreateParamsStreaming, signal: AbortSignal): Promise<AsyncIterable<ChatCompletionChunk>>;
  /**
   * The whole answer in one response, for a reply nobody reads as it is generated: a stream would
   * bring each token in a packet of its own, and the service would pay a read, a parse and an event
   * per token. Retried as a stream is, but all attempts and the body share one deadline,
   * `answerTimeoutMs`: the caller waits no longer than that, and the service's idle timeout can
   * be set from it.
   */
  completeChat(body: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal): Promise<unknown>;
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
const IDLE_CONNECTION_MS = 4000;
/** More than any answer a model is asked for (maxTokens is at most a million): a server sending more is not answering. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

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
async function errorMessage(body: IncomingMessage): Promise<string> {
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

/** The server went quiet for longer than the timeout: no headers yet, or a pause in the body. */
class SilenceError extends Error {
  override readonly name = "SilenceError";
}

function failure(error: unknown, timeoutMs: number): UpstreamError {
  if (error instanceof SilenceError) return new UpstreamError(`no answer within ${timeoutMs} ms`, undefined, { cause: error });
  return new UpstreamError(`cannot reach the model server: ${(error as Error).message}`, undefined, { cause: error });
}

/** The chunks of an SSE chat completion stream, until data: [DONE]. */
async function* completionChunks(body: IncomingMessage): AsyncGenerator<ChatCompletionChunk> {
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

interface RequestOptions {
  path: string;
  method: "GET" | "POST";
  headers: OutgoingHttpHeaders;
  body?: Buffer;
  signal?: AbortSignal | undefined;
}

export function openaiClient(options: UpstreamOptions): OpenAIClient {
  const base = new URL(options.baseURL);
  const root = base.pathname.replace(/\/+$/, "");
  const secure = base.protocol === "https:";
  // One agent per model server. No cap on its connections: each request in flight holds one for as long
  // as the model takes, so a cap would queue users behind each other inside the gateway. An idle
  // connection is closed after 4 s (less when the server's Keep-Alive header says so), before servers
  // such as uvicorn (5 s) close it under a request being written.
  const agentOptions = { keepAlive: true, timeout: IDLE_CONNECTION_MS };
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const open = secure ? httpsRequest : httpRequest;
  const hostname = base.hostname.replace(/^\[(.*)\]$/, "$1");
  const authorization: Record<string, string> = options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` };
  const chatHeaders = { ...authorization, "content-type": "application/json", accept: "text/event-stream" };
  const completionHeaders = { ...authorization, "content-type": "application/json", accept: "application/json" };
  const modelsHeaders = { ...authorization, accept: "application/json" };

  /**
   * One attempt: resolves with the response once its headers arrive. The socket's idle timeout covers
   * the wait for them and, after, each pause in the body: either way the request, or the response being
   * read, fails with a SilenceError.
   */
  function attempt(request: RequestOptions, timeoutMs: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | undefined;
      const outgoing = open(
        {
          protocol: base.protocol,
          hostname,
          port: base.port,
          path: request.path,
          method: request.method,
          headers: request.body === undefined ? request.headers : { ...request.headers, "content-length": request.body.length },
          agent,
          signal: request.signal,
          timeout: timeoutMs,
        },
        (incoming) => {
          response = incoming;
          resolve(incoming);
        },
      );
      outgoing.on("timeout", () => (response ?? outgoing).destroy(new SilenceError(`no answer within ${timeoutMs} ms`)));
      outgoing.on("error", reject);
      outgoing.end(request.body);
    });
  }

  /** Sends until a 2xx, a status not worth retrying, or the retries are spent. */
  async function send(request: RequestOptions, retries: number, timeoutMs: number): Promise<IncomingMessage> {
    const signal = request.signal;
    for (let retry = 0; ; retry += 1) {
      let response: IncomingMessage;
      try {
        response = await attempt(request, timeoutMs);
      } catch (error) {
        if (signal?.aborted === true || retry >= retries) throw signal?.aborted === true ? error : failure(error, timeoutMs);
        await sleep(retryDelayMs(retry), undefined, { signal });
        continue;
      }
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) return response;
      const message = await errorMessage(response);
      if (retry >= retries || !retryable(status, response.headers)) throw new UpstreamError(`${status} ${message}`, status);
      await sleep(retryDelayMs(retry, response.headers), undefined, { signal });
    }
  }

  /** Sends a chat's serialized body: only its bytes stay held, until the server answers. */
  async function openChatStream(body: Buffer, signal: AbortSignal): Promise<AsyncIterable<ChatCompletionChunk>> {
    const response = await send({ path: `${root}/chat/completions`, method: "POST", headers: chatHeaders, body, signal }, options.maxRetries, options.timeoutMs);
    return completionChunks(response);
  }

  /** Sends a chat's serialized body for the whole answer at once, and reads it, all within answerTimeoutMs. */
  async function completeChatBody(body: Buffer, signal: AbortSignal): Promise<unknown> {
    const timeoutMs = options.answerTimeoutMs;
    const answer = deadline(signal, timeoutMs);
    let whole: Buffer;
    try {
      const response = await send({ path: `${root}/chat/completions`, method: "POST", headers: completionHeaders, body, signal: answer.signal }, options.maxRetries, timeoutMs);
      whole = await readBounded(response, MAX_ANSWER_BYTES, () => new UpstreamError(`the model server's answer is larger than ${MAX_ANSWER_BYTES} bytes`));
    } catch (error) {
      if (signal.aborted || error instanceof UpstreamError) throw error;
      throw answer.expired() ? new UpstreamError(`no whole answer within ${timeoutMs} ms`, undefined, { cause: error }) : failure(error, timeoutMs);
    } finally {
      answer.clear();
    }
    const text = whole.toString("utf8");
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UpstreamError(`the model server's answer is not JSON: ${text.slice(0, 200)}`);
    }
  }

  return {
    // Both serialize before anything waits, so the caller's prompt objects are not held while the
    // model works; and as bytes, outside the JS heap, where each young-generation collection would
    // otherwise copy them.
    streamChat(body, signal) {
      return openChatStream(Buffer.from(JSON.stringify(body)), signal);
    },
    completeChat(body, signal) {
      return completeChatBody(Buffer.from(JSON.stringify(body)), signal);
    },
    async listModels(timeoutMs) {
      const response = await send({ path: `${root}/models`, method: "GET", headers: modelsHeaders }, 0, timeoutMs);
      await finished(response.resume());
    },
  };
}
