import type { RoutePlugin } from "../context.js";

/** Probes, metrics and the OpenAPI document, outside the caller's API (no authentication, no rate limit). */
export const opsRoutes: RoutePlugin = (app, context, done) => {
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
  done();
};
