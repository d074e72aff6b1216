import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import type { RateWindow } from "../config/schema.js";
import type { Metrics } from "../observability/metrics.js";
import { callerOf } from "./auth/require-auth.js";

export interface RateLimits {
  perUser?: RateWindow;
  perTenant?: RateWindow;
}

/**
 * Per-user and per-tenant request limits for every route of `scope`, counted after authentication
 * (so by who calls, not by address) and before the body is read. A request counts against its user
 * first; one the user's limit refuses does not count against the tenant.
 */
export async function limitRates(scope: FastifyInstance, limits: RateLimits, metrics: Metrics): Promise<void> {
  await scope.register(rateLimit, { global: false });
  const limiter = (window: RateWindow, key: (tenant: string, user: string) => string[]) =>
    scope.createRateLimit({
      max: window.max,
      timeWindow: window.windowSeconds * 1000,
      keyGenerator: (request) => {
        const { tenant, user } = callerOf(request);
        return JSON.stringify(key(tenant, user));
      },
    });
  const checks = [
    ...(limits.perUser === undefined ? [] : [{ scope: "user", check: limiter(limits.perUser, (tenant, user) => [tenant, user]) }]),
    ...(limits.perTenant === undefined ? [] : [{ scope: "tenant", check: limiter(limits.perTenant, (tenant) => [tenant]) }]),
  ];
  scope.addHook("onRequest", async (request, reply) => {
    for (const { scope: limited, check } of checks) {
      const result = await check(request);
      if (!result.isAllowed && result.isExceeded) {
        metrics.rateLimited.inc({ scope: limited });
        const seconds = Math.max(1, result.ttlInSeconds);
        return reply
          .status(429)
          .header("retry-after", String(seconds))
          .send({ error: { code: "rate_limited", message: `too many requests for this ${limited}, retry in ${seconds} s` } });
      }
    }
  });
}
