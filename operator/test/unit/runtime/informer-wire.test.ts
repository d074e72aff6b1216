import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Informer } from "../../../src/runtime/informer.js";

/*
 * What a real API server never does on purpose — send a broken watch line — from a minimal
 * server speaking the list/watch wire format. The informer must notice, count it and relist.
 * The server refuses watch-list streams, as one without the WatchList feature does: the informer
 * must fall back to paged lists.
 */
describe("Informer on a corrupted watch stream", function () {
  let server: Server;
  let kc: k8s.KubeConfig;
  const requests: string[] = [];

  before(async function () {
    server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://localhost");
      const watch = url.searchParams.get("watch") === "true";
      if (url.searchParams.get("sendInitialEvents") === "true") {
        requests.push("watch-list");
        response.writeHead(422, { "content-type": "application/json" });
        response.end(JSON.stringify({ kind: "Status", code: 422, message: "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled" }));
        return;
      }
      requests.push(watch ? `watch from ${url.searchParams.get("resourceVersion") ?? ""}` : "list");
      response.writeHead(200, { "content-type": "application/json" });
      if (!watch) {
        response.end(JSON.stringify({ kind: "ConfigMapList", metadata: { resourceVersion: "5" }, items: [{ metadata: { name: "a", namespace: "ns", resourceVersion: "5" } }] }));
        return;
      }
      if (requests.filter((r) => r.startsWith("watch from")).length === 1) {
        response.write(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: "b", namespace: "ns", resourceVersion: "6" } } })}\n`);
        response.write('{"type":"MODIFIED","object":{"metadata":\n');
      }
      // Later watches stay open and quiet until the client goes away.
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "wire", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: "wire" }],
      contexts: [{ name: "wire", cluster: "wire", user: "wire" }],
      currentContext: "wire",
    });
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("lists in pages where watch-list is refused; counts a parse error, logs it and relists, which undoes what the broken stream added", async function () {
    const registry = new Registry();
    const logged: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void logged.push((JSON.parse(line) as { msg: string }).msg) });
    const informer = new Informer<k8s.V1ConfigMap>({ kc, name: "wire", listPath: "/api/v1/configmaps", logger, registry, backoff: { initialMs: 10, maxMs: 20 } });
    const deleted: string[] = [];
    informer.onDelete((cm) => deleted.push(cm.metadata?.name ?? ""));
    try {
      await informer.start();
      for (let i = 0; i < 100 && requests.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(requests, ["watch-list", "list", "watch from 5", "list", "watch from 5"], "asked once, then lists for good");
      assert.ok(logged.includes("the API server does not offer watch-list streams; listing in pages"), logged.join("\n"));
      const parseErrors = await registry.getSingleMetric("informer_parse_errors_total")?.get();
      assert.equal(parseErrors?.values[0]?.value, 1);
      assert.ok(logged.includes("unparseable response from the API server; relisting"), logged.join("\n"));
      assert.deepEqual(deleted, ["b"], "the relist removed the object only the broken stream knew");
      assert.deepEqual(informer.list().map((cm) => cm.metadata?.name), ["a"]);
    } finally {
      informer.stop();
    }
  });
});
