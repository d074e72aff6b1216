import assert from "node:assert/strict";
import { pino } from "pino";
import { HealthServer } from "../../../src/runtime/health-server.js";
import { createMetricsRegistry } from "../../../src/runtime/metrics.js";

describe("HealthServer", function () {
  const registry = createMetricsRegistry();
  const server = new HealthServer({ host: "127.0.0.1", port: 0, registry, logger: pino({ level: "silent" }) });
  let base: string;
  let informerOk = true;

  before(async function () {
    server.addHealthCheck("informer a", () => ({ ok: informerOk, reason: "no watch event for 301 s" }));
    server.addHealthCheck("informer b", () => ({ ok: true, reason: "" }));
    server.addReadyCheck("synced", () => ({ ok: false, reason: "initial list not done" }));
    const { port } = await server.listen();
    base = `http://127.0.0.1:${port}`;
  });

  after(async function () {
    await server.close();
  });

  it("/healthz passes while every check passes and names the failing one otherwise", async function () {
    informerOk = true;
    const healthy = await fetch(`${base}/healthz`);
    assert.equal(healthy.status, 200);
    assert.match(await healthy.text(), /\[\+\]informer a ok\n\[\+\]informer b ok\nhealthz check passed/);
    informerOk = false;
    const stale = await fetch(`${base}/healthz`);
    assert.equal(stale.status, 500);
    const body = await stale.text();
    assert.match(body, /\[-\]informer a failed: no watch event for 301 s/);
    assert.match(body, /\[\+\]informer b ok/);
  });

  it("/readyz runs the readiness checks, not the liveness ones", async function () {
    const response = await fetch(`${base}/readyz`);
    assert.equal(response.status, 500);
    assert.equal(await response.text(), "[-]synced failed: initial list not done\nreadyz check failed\n");
  });

  it("/metrics serves the registry in the Prometheus text format", async function () {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), registry.contentType);
    const body = await response.text();
    assert.match(body, /# TYPE controller_runtime_reconcile_total counter/);
    assert.match(body, /process_cpu_user_seconds_total/);
  });

  it("answers 404 elsewhere and 405 to writes", async function () {
    assert.equal((await fetch(`${base}/`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`, { method: "POST" })).status, 405);
  });
});
