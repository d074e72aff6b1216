import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Metrics } from "../../observability/metrics.js";
import type { Authenticator } from "./authenticator.js";
import { AuthFailure, type Identity } from "./identity.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the authentication hook of the API routes; null elsewhere. */
    identity: Identity | null;
  }
}

const CHALLENGE = 'Bearer realm="assistant"';

/**
 * Tells the client only what RFC 6750 allows: that credentials are missing, or that the token is not
 * valid. Why (expired, wrong audience, unknown key) goes to the metrics and the log.
 */
function refuse(request: FastifyRequest, reply: FastifyReply, failure: AuthFailure): FastifyReply {
  if (failure.reason === "jwks_unavailable") {
    const problem = failure.cause instanceof Error ? failure.cause.message : String(failure.cause);
    request.log.warn({ authFailure: failure.reason, problem }, "cannot check the token");
    return reply
      .status(503)
      .header("retry-after", "5")
      .send({ error: { code: "auth_unavailable", message: "the identity provider's keys cannot be fetched, try again later" } });
  }
  request.log.info({ authFailure: failure.reason }, "authentication refused");
  if (failure.reason === "missing_credentials") {
    return reply
      .status(401)
      .header("www-authenticate", CHALLENGE)
      .send({ error: { code: "unauthenticated", message: "send an API key or token as Authorization: Bearer <credential>" } });
  }
  return reply
    .status(401)
    .header("www-authenticate", `${CHALLENGE}, error="invalid_token"`)
    .send({ error: { code: "invalid_token", message: "the API key or token is not valid" } });
}

/** Every route of `scope` needs a caller the authenticator accepts. */
export function requireAuth(scope: FastifyInstance, authenticator: Authenticator, metrics: Metrics): void {
  scope.addHook("onRequest", async (request, reply) => {
    try {
      request.identity = await authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      metrics.authFailures.inc({ reason: error.reason });
      return refuse(request, reply, error);
    }
  });
}

/** The caller of an authenticated route. A route outside that scope asking is a bug, so it fails closed. */
export function callerOf(request: FastifyRequest): Identity {
  if (request.identity === null) throw new Error(`no identity: ${request.routeOptions.url ?? request.url} is outside the authenticated scope`);
  return request.identity;
}
