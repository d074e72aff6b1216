import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance } from "fastify";
import { ChatAbortedError } from "../dialog/dialog.js";
import { ModelEmptyReplyError, ModelUnavailableError } from "../llm/types.js";
import { SkillError, type SkillErrorCode } from "../skills/errors.js";
import { ConversationNotFoundError, InvalidCursorError } from "../storage/types.js";

/** A client-facing error with a stable machine-readable code. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
} as const;

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_content_length",
};

/** The skill's own refusal (4xx) is the caller's to fix; what lies past the skill boundary is 5xx. */
const SKILL_STATUS: Record<SkillErrorCode, number> = {
  skill_not_found: 404,
  invalid_arguments: 400,
  confirmation_required: 409,
  skill_rejected: 422,
  skill_blocked: 502,
  skill_failed: 502,
  skill_response_too_large: 502,
  skill_unreachable: 502,
  skill_timeout: 504,
};

/** Maps any error to a status and the `{ error: { code, message } }` body; only real faults are 5xx. */
export function describeError(error: unknown): { status: number; body: ErrorBody } {
  const make = (status: number, code: string, message: string) => ({ status, body: { error: { code, message } } });
  if (error instanceof ApiError) return make(error.statusCode, error.code, error.message);
  if (error instanceof ConversationNotFoundError) return make(404, "conversation_not_found", `conversation ${error.message} does not exist`);
  if (error instanceof InvalidCursorError) return make(400, "invalid_cursor", error.message);
  if (error instanceof ModelUnavailableError) return make(502, "model_unavailable", "the model endpoint is unavailable, try again later");
  if (error instanceof ModelEmptyReplyError) return make(502, "model_empty", "the model answered with no text, try again later");
  if (error instanceof SkillError) return make(SKILL_STATUS[error.code], error.code, error.message);
  if (error instanceof ChatAbortedError) return make(499, "client_closed_request", error.message);
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) return make(400, "invalid_request", fastifyError.message ?? "invalid request");
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    if (/proto|constructor/i.test(fastifyError.message ?? "")) return make(400, "invalid_json", "forbidden property name in JSON body");
    return make(status, FASTIFY_CODES[fastifyError.code ?? ""] ?? "bad_request", fastifyError.message ?? "bad request");
  }
  return make(500, "internal_error", "internal error");
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (oversized headers or URL, broken
 * framing) still get the error shape, written straight to the socket as Node itself would.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "headers_too_large", "request line or headers are too large"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "request_timeout", "the request took too long to arrive"]
        : [400, "bad_request", "malformed HTTP request"];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = describeError(error);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: "not_found", message: `no route ${request.method} ${(request.url.split("?")[0] ?? "").slice(0, 200)}` } }),
  );
}
