import type { FastifyReply } from "fastify";

/**
 * A Server-Sent Events response. The heartbeat comment keeps proxies and load balancers with idle
 * timeouts (often 60 s) from cutting a long answer; SSE clients ignore comment lines.
 */
export interface SseStream {
  event(name: string, data: unknown): void;
  data(payload: string): void;
  end(): void;
  /** Aborted when the client goes away before the stream ends. */
  readonly signal: AbortSignal;
}

export function openSse(reply: FastifyReply, heartbeatMs: number): SseStream {
  const raw = reply.raw;
  const controller = new AbortController();
  reply.hijack();
  // The headers hooks set (request id, security, CORS) go out with the stream as with any reply.
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) raw.setHeader(name, value);
  }
  // No Connection header: Node keeps the connection alive or closes it after the stream as the client
  // asked, where a fixed keep-alive would hold open the connection of a client that sent close.
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  });
  raw.flushHeaders();
  const write = (text: string): void => {
    if (!raw.writableEnded && !raw.destroyed) raw.write(text);
  };
  const heartbeat = setInterval(() => {
    write(": heartbeat\n\n");
  }, heartbeatMs);
  raw.once("close", () => {
    clearInterval(heartbeat);
    if (!raw.writableFinished) controller.abort();
  });
  return {
    signal: controller.signal,
    event(name, data) {
      write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    data(payload) {
      write(`data: ${payload}\n\n`);
    },
    end() {
      clearInterval(heartbeat);
      if (!raw.writableEnded) raw.end();
    },
  };
}

/** Aborted when the client closes the connection before the reply is complete. */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

export function wantsStream(stream: boolean | undefined, accept: string | undefined): boolean {
  return stream ?? (accept ?? "").toLowerCase().includes("text/event-stream");
}
