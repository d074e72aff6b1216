import { errorSchema, describeError } from "../errors.js";
import { skillCallerOf } from "../audit.js";
import { callerOf } from "../auth/require-auth.js";
import type { RoutePlugin } from "../context.js";
import { disconnectSignal, openSse, wantsStream } from "../sse.js";

export const sourceSchema = {
  type: "object",
  required: ["index", "documentId", "title", "section", "source", "chunkId", "score", "excerpt"],
  properties: {
    index: { type: "integer", description: "The n of the citation [n] in the reply" },
    documentId: { type: "string" },
    title: { type: "string" },
    section: { type: "string", description: "Heading of the section the passage comes from" },
    source: { type: "string", description: "File path of the document inside the knowledge directory" },
    chunkId: { type: "string" },
    score: { type: "number", description: "Relevance, higher is better: the BM25 score, or with embeddings the fused hybrid score" },
    excerpt: { type: "string" },
  },
} as const;

export const conversationIdSchema = { type: "string", pattern: "^[A-Za-z0-9-]{1,64}$" } as const;

export const chatRoutes: RoutePlugin = (app, context, done) => {
  const { dialog, metrics, limits } = context;
  app.post(
    "/api/v1/chat",
    {
      config: { audit: true },
      schema: {
        summary: "Send a message; SSE when stream is true or Accept is text/event-stream",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["message"],
          properties: {
            message: { type: "string", minLength: 1, maxLength: limits.maxMessageChars, pattern: "\\S" },
            conversationId: conversationIdSchema,
            stream: { type: "boolean" },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["reply", "conversationId", "sources", "grounded"],
            properties: {
              reply: { type: "string" },
              conversationId: { type: "string" },
              sources: { type: "array", items: sourceSchema },
              grounded: {
                type: "boolean",
                description: "Whether the reply answers from the knowledge base and cites it; false when it says the knowledge base does not answer (and for greetings and skill results)",
              },
            },
          },
          "4xx": errorSchema,
          "5xx": errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { message, conversationId } = request.body;
      const caller = callerOf(request);
      if (!wantsStream(request.body.stream, request.headers.accept)) {
        try {
          const conversation = await dialog.openConversation(caller, conversationId);
          const result = await dialog.chat(caller, message, conversation, disconnectSignal(reply), {}, skillCallerOf(request));
          metrics.chatTurns.inc({ endpoint: "chat", outcome: "ok" });
          return { reply: result.reply, conversationId: result.conversationId, sources: result.sources, grounded: result.grounded };
        } catch (error) {
          metrics.chatTurns.inc({ endpoint: "chat", outcome: "error" });
          throw error;
        }
      }
      // Opened before the stream, so an unknown conversation is a plain 404, not a 200 stream carrying an error event.
      const conversation = await dialog.openConversation(caller, conversationId);
      const sse = openSse(reply, limits.sseHeartbeatMs);
      try {
        const result = await dialog.chat(
          caller,
          message,
          conversation,
          sse.signal,
          {
            start: (meta) => {
              sse.event("start", meta);
            },
            delta: (text) => {
              sse.event("delta", { text });
            },
          },
          skillCallerOf(request),
        );
        metrics.chatTurns.inc({ endpoint: "chat", outcome: "ok" });
        sse.event("done", { reply: result.reply, conversationId: result.conversationId, sources: result.sources, grounded: result.grounded });
      } catch (error) {
        metrics.chatTurns.inc({ endpoint: "chat", outcome: sse.signal.aborted ? "aborted" : "error" });
        const { status, body } = describeError(error);
        if (status >= 500) request.log.error({ err: error }, "streamed chat failed");
        sse.event("error", body);
      } finally {
        sse.end();
      }
      return reply;
    },
  );
  done();
};
