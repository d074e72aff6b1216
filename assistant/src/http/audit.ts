import type { FastifyRequest } from "fastify";
import type { Actor, SkillCaller } from "../skills/skills.js";
import { callerOf } from "./auth/require-auth.js";
import type { Identity } from "./auth/identity.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route writes (a chat turn, a delete): each request gets an audit line. */
    audit?: boolean;
  }
}

const actorOf = (identity: Identity): Actor => ({ tenant: identity.tenant, user: identity.user, authMethod: identity.method, keyName: identity.keyName });

/** The authenticated caller as skills see it; their audit lines go to the request's log. */
export function skillCallerOf(request: FastifyRequest): SkillCaller {
  return { actor: actorOf(callerOf(request)), requestId: request.id, log: request.log };
}

/**
 * One log line per request to a writing route, refused ones included: who (tenant, user, how they
 * authenticated, which key), what (method, route template), and the outcome. The request id comes
 * with the request's logger. Never the body, the token or the key.
 */
export function audit(request: FastifyRequest, status: number): void {
  if (request.routeOptions.config.audit !== true) return;
  const caller = request.identity;
  request.log.info(
    {
      audit: true,
      method: request.method,
      route: request.routeOptions.url,
      status,
      actor: caller === null ? null : actorOf(caller),
    },
    "audit",
  );
}
