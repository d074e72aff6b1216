import swagger from "@fastify/swagger";
import { Ajv } from "ajv";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import { audit } from "./audit.js";
import { requireAuth } from "./auth/require-auth.js";
import { secureForBrowsers } from "./browser-security.js";
import type { HttpContext } from "./context.js";
import { clientErrorHandler, describeError, installErrorHandlers } from "./errors.js";
import { limitRates } from "./rate-limit.js";
import { requestIdFor } from "./request-id.js";
import { chatRoutes } from "./routes/chat.js";
import { conversationRoutes } from "./routes/conversations.js";
import { knowledgeRoutes } from "./routes/knowledge.js";
import { openaiRoutes } from "./routes/openai.js";
import { opsRoutes } from "./routes/ops.js";
import { skillRoutes } from "./routes/skills.js";
import { loadSite, siteRoutes } from "../web/site.js";

/**
 * Bodies are validated without type coercion (`{"message": 1}` is an error, not the string "1");
 * only querystring and path parameters, which are always strings on the wire, are coerced.
 */
function validators(): { body: Ajv; coercing: Ajv } {
  const options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false } as const;
  return { body: new Ajv({ ...options, coerceTypes: false }), coercing: new Ajv({ ...options, coerceTypes: true }) };
}

export async function buildApp(context: HttpContext, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: context.limits.bodyLimitBytes,
    // Only receiving the request is timed: a stream is past that, and its heartbeat keeps it from idling.
    requestTimeout: context.limits.requestTimeoutMs,
    connectionTimeout: context.limits.connectionTimeoutMs,
    // Node checks request timeouts on this tick (30 s by default), which would stretch a short timeout,
    // and quietly measures the whole request by its 60 s headers timeout when that is the longer one.
    http: { connectionsCheckingInterval: 1000, headersTimeout: Math.min(60000, context.limits.requestTimeoutMs) },
    requestIdHeader: false,
    genReqId: (request) => requestIdFor(request.headers["x-request-id"], context.masker),
    // Fastify's own 503-on-close body lacks the error shape; the onRequest hook below answers instead.
    return503OnClosing: false,
    // One log line per request, written when the response closes (streams included), instead of two.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: "idle",
    clientErrorHandler,
    // Router-level rejections (undecodable URL, oversized path parameter) get the same error shape.
    frameworkErrors: (error, _request, reply) => {
      const { status, body } = describeError(error);
      void (reply as FastifyReply).status(status).send(body);
    },
  });
  const ajv = validators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? ajv.body : ajv.coercing).compile(schema),
  );
  installErrorHandlers(app);
  app.decorateRequest("identity", null);

  app.addHook("onRequest", (request, reply, done) => {
    const stop = context.metrics.httpDuration.startTimer();
    void reply.header("x-request-id", request.id);
    // "close" fires for hijacked streams too, which skip Fastify's onResponse hook.
    reply.raw.once("close", () => {
      const labels = { method: request.method, route: request.routeOptions.url ?? "unmatched", status: String(reply.raw.statusCode) };
      const seconds = stop(labels);
      context.metrics.httpRequests.inc(labels);
      audit(request, reply.raw.statusCode);
      request.log.info(
        { req: request, res: { statusCode: reply.raw.statusCode }, responseTime: Math.round(seconds * 1e6) / 1e3, completed: reply.raw.writableFinished },
        "request completed",
      );
      // While closing, a connection whose last response just ended would otherwise be kept alive by
      // the client and hold the shutdown until the grace period.
      if (context.state.closing) {
        setImmediate(() => {
          app.server.closeIdleConnections();
        });
      }
    });
    // While draining, every answer closes its connection: the client's next request opens a new one,
    // which the Service sends to a pod that stays.
    if (context.state.draining) void reply.header("connection", "close");
    if (context.state.closing) {
      // Answering from the hook ends the request here; done() would run the handler as well.
      void reply
        .status(503)
        .header("connection", "close")
        .send({ error: { code: "shutting_down", message: "the service is shutting down, retry on another instance" } });
      return;
    }
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "AI assistant",
        version: "0.1.0",
        description: "Chat with citations from the knowledge base, conversations, and an OpenAI-compatible API.",
      },
      ...(context.authenticator.required
        ? { components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key or an OIDC access token" } } }, security: [{ bearer: [] }] }
        : {}),
    },
  });
  await secureForBrowsers(app, context.corsOrigins);
  app.addHook("onClose", (_instance, done) => {
    context.authenticator.close();
    done();
  });
  // Everything under /api and /v1 is the caller's: authenticated, then rate limited, before the body is read.
  // One plugin per file of routes, each given the context.
  await app.register(async (api) => {
    requireAuth(api, context.authenticator, context.metrics);
    if (context.rateLimits !== undefined) await limitRates(api, context.rateLimits, context.metrics);
    await api.register(chatRoutes, context);
    await api.register(openaiRoutes, context);
    await api.register(conversationRoutes, context);
    await api.register(knowledgeRoutes, context);
    await api.register(skillRoutes, context);
  });
  await app.register(opsRoutes, context);
  await app.register(siteRoutes, { assets: loadSite() });
  await app.ready();
  return app;
}
