import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for a paid OpenAI-compatible API, speaking its exact wire format: JSON bodies,
 * SSE `data:` chunks ending with `data: [DONE]`, and OpenAI error bodies. Tests queue a behaviour
 * per request; with none queued it answers DEFAULT_REPLY, streamed when the request asks for a stream.
 */
export const DEFAULT_REPLY = ["Hello", " from", " the fake model."];

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
  /** The client's port: requests on one kept-alive connection share it. */
  remotePort: number | undefined;
  /** Resolves when the client closed the connection before the response ended. */
  aborted: Promise<void>;
}

export type Behaviour = (response: ServerResponse, request: RecordedRequest) => void | Promise<void>;

export interface FakeOpenAI {
  baseURL: string;
  requests: RecordedRequest[];
  queue: Behaviour[];
  close(): Promise<void>;
}

const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
  `data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1, model: "fake-model", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;

export function startStream(response: ServerResponse): void {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  response.write(chunk({ role: "assistant", content: "" }, null));
}

export function writeDelta(response: ServerResponse, text: string): void {
  response.write(chunk({ content: text }, null));
}

/** Ends the stream; `usage: null` leaves out the usage chunk, as servers that ignore stream_options do. */
export function finishStream(response: ServerResponse, usage: { prompt_tokens: number; completion_tokens: number } | null = { prompt_tokens: 42, completion_tokens: 7 }, finishReason = "stop"): void {
  response.write(chunk({}, finishReason));
  if (usage !== null) {
    response.write(
      `data: ${JSON.stringify({ id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1, model: "fake-model", choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } })}\n\n`,
    );
  }
  response.end("data: [DONE]\n\n");
}

/** One chat.completion body, as a server answers a request that did not ask for a stream. */
export function completionReply(
  response: ServerResponse,
  message: { content: string | null; tool_calls?: unknown[] },
  usage: { prompt_tokens: number; completion_tokens: number } | null = { prompt_tokens: 42, completion_tokens: 7 },
  finishReason = "stop",
): void {
  response.writeHead(200, { "content-type": "application/json" });
  response.end(
    JSON.stringify({
      id: "chatcmpl-fake",
      object: "chat.completion",
      created: 1,
      model: "fake-model",
      choices: [{ index: 0, message: { role: "assistant", refusal: null, ...message }, logprobs: null, finish_reason: finishReason }],
      ...(usage === null ? {} : { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }),
    }),
  );
}

/** The reply in the form the request asked for: streamed in `pieces`, or whole. */
export function streamReply(pieces: string[] = DEFAULT_REPLY): Behaviour {
  return (response, request) => {
    if (request.body?.["stream"] !== true) {
      completionReply(response, { content: pieces.join("") });
      return;
    }
    startStream(response);
    for (const piece of pieces) writeDelta(response, piece);
    finishStream(response);
  };
}

export interface FakeToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * The model asks for function calls, in the format the request asked for: streamed, the id and
 * name first and the arguments in fragments, ending with finish_reason tool_calls; or one
 * chat.completion whose message carries tool_calls.
 */
export function toolCallReply(calls: FakeToolCall[]): Behaviour {
  return (response, request) => {
    if (request.body?.["stream"] !== true) {
      const tool_calls = calls.map((call) => ({ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }));
      completionReply(response, { content: null, tool_calls }, { prompt_tokens: 30, completion_tokens: 5 }, "tool_calls");
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    response.write(chunk({ role: "assistant", content: null }, null));
    calls.forEach((call, index) => {
      response.write(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }, null));
      const middle = Math.floor(call.arguments.length / 2);
      for (const fragment of [call.arguments.slice(0, middle), call.arguments.slice(middle)]) {
        response.write(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }, null));
      }
    });
    finishStream(response, { prompt_tokens: 30, completion_tokens: 5 }, "tool_calls");
  };
}

/** A streamed reply held after its first piece until `release()`: only a streaming client shows that piece. */
export function heldReply(first: string, rest: string): { behaviour: Behaviour; release: () => void } {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const behaviour: Behaviour = async (response) => {
    startStream(response);
    writeDelta(response, first);
    await released;
    writeDelta(response, rest);
    finishStream(response);
  };
  return { behaviour, release };
}

export function errorReply(status: number, message: string, code: string): Behaviour {
  return (response) => {
    response.writeHead(status, { "content-type": "application/json", "retry-after-ms": "5" });
    response.end(JSON.stringify({ error: { message, type: status === 429 ? "requests" : "server_error", param: null, code } }));
  };
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  return text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
}

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: Behaviour[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const aborted = new Promise<void>((resolve) => {
        response.once("close", () => {
          if (!response.writableFinished) resolve();
        });
      });
      const recorded: RecordedRequest = {
        method: request.method ?? "",
        path: request.url ?? "",
        authorization: request.headers.authorization,
        body,
        remotePort: request.socket.remotePort,
        aborted,
      };
      requests.push(recorded);
      if (recorded.path === "/v1/models") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model", created: 1, owned_by: "test" }] }));
        return;
      }
      const behaviour = queue.shift() ?? streamReply();
      await behaviour(response, recorded);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    queue,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
