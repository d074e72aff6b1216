import type { FastifyRequest } from "fastify";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route writes (a chat turn, a delete): each request gets an audit line. */
    audit?: boolean;
  }
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
      actor: caller === null ? null : { tenant: caller.tenant, user: caller.user, authMethod: caller.method, keyName: caller.keyName },
    },
    "audit",
  );
}
