import type { FastifyInstance } from "fastify";
import type { HttpContext } from "../context.js";

export function opsRoutes(app: FastifyInstance, context: HttpContext): void {
  const { state, storage, provider, metrics } = context;

  // Probes and Prometheus scrape without credentials, also when auth is on.
  app.get("/healthz", { schema: { summary: "Liveness: the process serves HTTP", security: [] } }, () => ({ status: "ok" }));

  app.get("/readyz", { schema: { summary: "Readiness: storage open, knowledge loaded, model reachable, not draining", security: [] } }, async (_request, reply) => {
    const storageOk = await storage.ping().catch(() => false);
    const modelOk = await provider.ready();
    const checks = { draining: state.draining, storage: storageOk, knowledge: state.knowledgeLoaded, model: modelOk };
    const ready = !state.draining && storageOk && state.knowledgeLoaded && modelOk;
    return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks });
  });

  app.get("/metrics", { schema: { summary: "Prometheus metrics", hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());
}
