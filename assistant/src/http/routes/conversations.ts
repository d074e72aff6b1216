import { ConversationNotFoundError } from "../../storage/types.js";
import { errorSchema } from "../errors.js";
import { callerOf } from "../auth/require-auth.js";
import type { RoutePlugin } from "../context.js";
import { pageQuerystring, pageResponse } from "../paging.js";
import { conversationIdSchema, sourceSchema } from "./chat.js";

const conversationProperties = {
  id: { type: "string" },
  title: { type: "string" },
  createdAt: { type: "string" },
  updatedAt: { type: "string" },
  turnCount: { type: "integer" },
} as const;

const turnSchema = {
  type: "object",
  required: ["seq", "role", "content", "createdAt", "sources"],
  properties: {
    seq: { type: "integer" },
    role: { type: "string" },
    content: { type: "string" },
    createdAt: { type: "string" },
    sources: { type: "array", items: sourceSchema },
    promptTokens: { type: ["integer", "null"] },
    completionTokens: { type: ["integer", "null"] },
  },
} as const;

const idParams = { type: "object", required: ["id"], properties: { id: conversationIdSchema } } as const;

export const conversationRoutes: RoutePlugin = (app, context, done) => {
  const { storage, limits } = context;

  app.get(
    "/api/v1/conversations",
    {
      schema: {
        summary: "List conversations, newest activity first (cursor pagination)",
        querystring: pageQuerystring(limits.maxPageSize, 512),
        response: { 200: pageResponse({ type: "object", properties: conversationProperties }), "4xx": errorSchema },
      },
    },
    (request) => storage.listConversations(callerOf(request), request.query.limit ?? Math.min(20, limits.maxPageSize), request.query.cursor),
  );

  app.get(
    "/api/v1/conversations/:id",
    {
      schema: {
        summary: "One conversation with its turns (masked as stored)",
        params: idParams,
        response: {
          200: {
            type: "object",
            properties: { ...conversationProperties, turns: { type: "array", items: turnSchema } },
          },
          "4xx": errorSchema,
        },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const conversation = await storage.getConversation(caller, request.params.id);
      if (conversation === undefined) throw new ConversationNotFoundError(request.params.id);
      return { ...conversation, turns: await storage.listTurns(caller, conversation.id) };
    },
  );

  app.delete(
    "/api/v1/conversations/:id",
    {
      config: { audit: true },
      schema: { summary: "Delete a conversation and its turns", params: idParams, response: { 204: { type: "null" }, "4xx": errorSchema } },
    },
    async (request, reply) => {
      if (!(await storage.deleteConversation(callerOf(request), request.params.id))) throw new ConversationNotFoundError(request.params.id);
      return reply.status(204).send(null);
    },
  );
  done();
};
