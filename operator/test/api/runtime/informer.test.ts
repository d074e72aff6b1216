import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { Informer, type InformerOptions } from "../../../src/runtime/informer.js";
import { HttpListerWatcher, type ListerWatcher } from "../../../src/runtime/list-watch.js";
import { createNamespace, eventually, kubeConfig } from "../../support/kube.js";
import { recordingLogger } from "./recording-logger.js";
import { StallingProxy, apiServerAddress, compactEtcd } from "./stalling-proxy.js";

type Seen = [type: "add" | "update" | "delete", name: string, data?: string];

/** Records what the handlers receive, as [type, name, data.v]. */
function recordEvents(informer: Informer<k8s.V1ConfigMap>): Seen[] {
  const seen: Seen[] = [];
  informer.onAdd((cm) => seen.push(["add", cm.metadata?.name ?? "", cm.data?.["v"]]));
  informer.onUpdate((old, cm) => {
    assert.notEqual(old.metadata?.resourceVersion, cm.metadata?.resourceVersion);
    seen.push(["update", cm.metadata?.name ?? "", `${old.data?.["v"] ?? ""}->${cm.data?.["v"] ?? ""}`]);
  });
  informer.onDelete((cm) => seen.push(["delete", cm.metadata?.name ?? "", cm.data?.["v"]]));
  return seen;
}

async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const value = metric?.values.find((v) => Object.entries(labels).every(([key, want]) => v.labels[key] === want));
  return value?.value ?? 0;
}

describe("Informer against a real API server", function () {
  this.timeout(60_000);
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let namespace: string;
  const informers: { stop(): void }[] = [];
  const proxies: StallingProxy[] = [];

  before(function () {
    kc = kubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
  });

  beforeEach(async function () {
    namespace = await createNamespace(kc, "informer");
  });

  afterEach(async function () {
    for (const informer of informers.splice(0)) informer.stop();
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  const configMap = (name: string, v: string): k8s.V1ConfigMap => ({ metadata: { name, labels: { test: "informer" } }, data: { v } });

  function configMapInformer(options: Partial<InformerOptions<k8s.V1ConfigMap>> & { registry: Registry }): Informer<k8s.V1ConfigMap> {
    const informer = new Informer<k8s.V1ConfigMap>({
      kc,
      name: "configmaps",
      listPath: `/api/v1/namespaces/${namespace}/configmaps`,
      labelSelector: "test=informer",
      logger: recordingLogger().logger,
      ...options,
    });
    informers.push(informer);
    return informer;
  }

  async function proxy(): Promise<StallingProxy> {
    const created = new StallingProxy(apiServerAddress(kc));
    await created.listen();
    proxies.push(created);
    return created;
  }

  /** The HTTP list/watch of the test's ConfigMaps, recording each request it makes. */
  function recordingListerWatcher(via = kc): { listerWatcher: ListerWatcher<k8s.V1ConfigMap>; requests: string[] } {
    const http = new HttpListerWatcher<k8s.V1ConfigMap>(via, `/api/v1/namespaces/${namespace}/configmaps`, "test=informer");
    const requests: string[] = [];
    return {
      requests,
      listerWatcher: {
        list: (options) => {
          requests.push("list");
          return http.list(options);
        },
        watch: (options) => {
          requests.push(options.sendInitialEvents ? "watch-list" : "watch");
          return http.watch(options);
        },
      },
    };
  }

  it("fills its cache from one watch-list stream, no LIST, then delivers adds, updates and deletes as they happen", async function () {
    for (const name of ["pre-1", "pre-2", "pre-3"]) await core.createNamespacedConfigMap({ namespace, body: configMap(name, "0") });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "unlabelled" } } });
    const registry = new Registry();
    const { listerWatcher, requests } = recordingListerWatcher();
    const informer = configMapInformer({ registry, listerWatcher });
    const seen = recordEvents(informer);
    assert.equal(informer.hasSynced(), false);
    await informer.start();
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(informer.list().map((cm) => cm.metadata?.name).sort(), ["pre-1", "pre-2", "pre-3"], "the label selector applies");
    assert.deepEqual(informer.health(), { ok: true, reason: "" });

    await core.createNamespacedConfigMap({ namespace, body: configMap("new", "1") });
    await core.replaceNamespacedConfigMap({ name: "pre-1", namespace, body: configMap("pre-1", "2") });
    await core.deleteNamespacedConfigMap({ name: "pre-2", namespace });
    await eventually("the three changes", () => (seen.length === 6 ? true : undefined));
    assert.deepEqual(seen, [
      ["add", "pre-1", "0"],
      ["add", "pre-2", "0"],
      ["add", "pre-3", "0"],
      ["add", "new", "1"],
      ["update", "pre-1", "0->2"],
      ["delete", "pre-2", "0"],
    ]);
    assert.equal(informer.get(namespace, "pre-1")?.data?.["v"], "2");
    assert.equal(informer.get(namespace, "pre-2"), undefined);
    assert.equal(await counter(registry, "informer_events_total", { informer: "configmaps", type: "MODIFIED" }), 1);
    assert.deepEqual(requests, ["watch-list"], "the initial objects and the changes came on one connection");
  });

  it("files each object under its indexBy key for byIndex, following the key as it changes", async function () {
    const owned = (name: string, owner: string): k8s.V1ConfigMap => ({ metadata: { name, labels: { test: "informer", owner } } });
    for (const [name, owner] of [["a-1", "a"], ["a-2", "a"], ["b-1", "b"]] as const) await core.createNamespacedConfigMap({ namespace, body: owned(name, owner) });
    const informer = configMapInformer({ registry: new Registry(), indexBy: (cm) => cm.metadata?.labels?.["owner"] });
    await informer.start();
    const names = (key: string) => informer.byIndex(key).map((cm) => cm.metadata?.name).sort();
    assert.deepEqual([names("a"), names("b"), names("c")], [["a-1", "a-2"], ["b-1"], []]);

    await core.replaceNamespacedConfigMap({ name: "a-2", namespace, body: owned("a-2", "c") });
    await core.deleteNamespacedConfigMap({ name: "b-1", namespace });
    await eventually("the index to follow", () => (names("c").length === 1 && names("b").length === 0 ? true : undefined));
    assert.deepEqual([names("a"), names("b"), names("c")], [["a-1"], [], ["a-2"]]);
  });

  it("caches and hands out what its transform returns, for listed and for watched objects", async function () {
    await core.createNamespacedConfigMap({ namespace, body: configMap("listed", "1") });
    const informer = configMapInformer({
      registry: new Registry(),
      // A new object from the fields the test reads: what the cache holds is exactly what this returns.
      transform: (cm) => ({ metadata: { name: cm.metadata?.name, namespace: cm.metadata?.namespace, resourceVersion: cm.metadata?.resourceVersion }, data: { v: `seen ${cm.data?.["v"] ?? ""}` } }),
    });
    const seen = recordEvents(informer);
    await informer.start();
    await core.createNamespacedConfigMap({ namespace, body: configMap("watched", "2") });
    await eventually("the watched add", () => (seen.length === 2 ? true : undefined));
    assert.deepEqual(seen, [
      ["add", "listed", "seen 1"],
      ["add", "watched", "seen 2"],
    ]);
    for (const cm of informer.list()) assert.equal(cm.metadata?.managedFields, undefined);
  });

  it("resyncs from its cache: every object to the update handlers again, with no request to the server", async function () {
    for (const name of ["one", "two", "three"]) await core.createNamespacedConfigMap({ namespace, body: configMap(name, "0") });
    const registry = new Registry();
    const { listerWatcher, requests } = recordingListerWatcher();
    const informer = configMapInformer({ registry, listerWatcher, resyncMs: 300 });
    const resynced: string[] = [];
    informer.onUpdate((old, cm) => {
      if (old === cm) resynced.push(cm.metadata?.name ?? "");
    });
    await informer.start();
    await eventually("two resyncs", () => (resynced.length >= 6 ? true : undefined));
    assert.deepEqual([...new Set(resynced)].sort(), ["one", "three", "two"]);
    assert.equal(await counter(registry, "informer_resyncs_total"), resynced.length);
    assert.deepEqual(requests, ["watch-list"], "the watch stays open: no relist");
    assert.equal(await counter(registry, "informer_relists_total"), 0);
  });

  it("relists when its resourceVersion is gone (410) and carries on watching", async function () {
    // Events are not served from the watch cache: a watch from a compacted revision reaches etcd and gets 410.
    const registry = new Registry();
    const network = await proxy();
    const { logger, messages } = recordingLogger();
    const informer = new Informer<k8s.CoreV1Event>({
      kc: network.kubeConfigVia(kc),
      name: "events",
      listPath: `/api/v1/namespaces/${namespace}/events`,
      logger,
      registry,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    informers.push(informer);
    await informer.start();
    // Moves etcd's revision two past the informer's (a watch from RV r starts at revision r + 1),
    // then forgets the history in between.
    await core.createNamespacedConfigMap({ namespace, body: configMap("advance", "0") });
    await core.createNamespacedConfigMap({ namespace, body: configMap("advance-more", "0") });
    await compactEtcd();
    network.cut();

    await eventually("a relist after 410 Gone", async () => ((await counter(registry, "informer_relists_total")) >= 1 ? true : undefined));
    assert.ok(messages().includes("resourceVersion expired (410 Gone); relisting"), messages().join("\n"));
    assert.equal(await counter(registry, "informer_events_total", { informer: "events", type: "ERROR" }), 1);
    await core.createNamespacedEvent({
      namespace,
      body: { metadata: { name: "after-410" }, involvedObject: { kind: "ConfigMap", name: "advance", namespace }, reason: "Test", message: "m" },
    });
    await eventually("the event created after the relist", () => informer.get(namespace, "after-410"));
    assert.equal(informer.health().ok, true);
  });

  it("reports unhealthy when the connection stalls past staleAfterMs, and recovers", async function () {
    const registry = new Registry();
    const network = await proxy();
    const informer = configMapInformer({ registry, kc: network.kubeConfigVia(kc), staleAfterMs: 2000, backoff: { initialMs: 100, maxMs: 400 } });
    await informer.start();
    assert.equal(informer.health().ok, true);

    network.stall();
    const stale = await eventually("health to fail", () => (informer.health().ok ? undefined : informer.health()));
    assert.match(stale.reason, /no watch event, bookmark or successful list for \d+ s \(limit 2 s\)/);
    network.resume();
    await eventually("health to recover", () => (informer.health().ok ? true : undefined));
    await core.createNamespacedConfigMap({ namespace, body: configMap("after-stall", "1") });
    await eventually("an event after the stall", () => informer.get(namespace, "after-stall"));
    assert.ok((await counter(registry, "watch_restarts_total")) >= 1);
  });

  it("is unhealthy before the first list and after stop", async function () {
    const informer = configMapInformer({ registry: new Registry() });
    assert.deepEqual(informer.health(), { ok: false, reason: "initial list not done" });
    await informer.start();
    informer.stop();
    assert.deepEqual(informer.health(), { ok: false, reason: "stopped" });
  });
});
