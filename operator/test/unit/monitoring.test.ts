import assert from "node:assert/strict";
import { prometheusRule, serviceMonitor } from "../../src/resources/monitoring.js";
import { defaultedAIAssistant } from "../support/aiassistant.js";

const monitored = (spec: Record<string, unknown> = {}) =>
  defaultedAIAssistant({ monitoring: { enabled: true, interval: "15s", labels: { release: "prometheus" } }, ...spec });

describe("monitoring objects of an AIAssistant", function () {
  it("are not wanted unless spec.monitoring.enabled", function () {
    const aia = defaultedAIAssistant();
    assert.equal(serviceMonitor(aia), undefined);
    assert.equal(prometheusRule(aia), undefined);
  });

  it("scrape the stable Service's http port at /metrics, owned and labelled for Prometheus's selector", function () {
    const aia = monitored();
    const monitor = serviceMonitor(aia);
    assert.equal(monitor?.apiVersion, "monitoring.coreos.com/v1");
    assert.equal(monitor.kind, "ServiceMonitor");
    assert.equal(monitor.metadata?.name, "demo");
    assert.equal(monitor.metadata?.namespace, "team-a");
    assert.equal(monitor.metadata?.labels?.["release"], "prometheus");
    assert.equal(monitor.metadata?.ownerReferences?.[0]?.uid, aia.metadata.uid);
    // The Services carry the instance labels only; Prometheus's selector labels are on the monitor.
    assert.deepEqual(monitor.spec.selector.matchLabels, {
      "app.kubernetes.io/name": "ai-assistant",
      "app.kubernetes.io/instance": "demo",
      "app.kubernetes.io/managed-by": "aiassistant-operator",
    });
    assert.deepEqual(monitor.spec.namespaceSelector.matchNames, ["team-a"]);
    assert.deepEqual(monitor.spec.endpoints, [
      {
        port: "http",
        path: "/metrics",
        interval: "15s",
        relabelings: [{ sourceLabels: ["__meta_kubernetes_service_name"], regex: "demo", action: "keep" }],
      },
    ]);
  });

  it("alert on errors, latency, restarts, downtime and a full volume, each scoped to this assistant", function () {
    const rule = prometheusRule(monitored());
    assert.equal(rule?.kind, "PrometheusRule");
    assert.equal(rule.metadata?.labels?.["release"], "prometheus");
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    assert.deepEqual(
      rules.map((r) => [r.alert, r.labels["severity"], r.for]),
      [
        ["AIAssistantHighErrorRate", "critical", "2m"],
        ["AIAssistantHighLatency", "warning", "10m"],
        ["AIAssistantPodRestarts", "warning", "5m"],
        ["AIAssistantDown", "critical", "5m"],
        ["AIAssistantVolumeAlmostFull", "warning", "5m"],
      ],
    );
    for (const r of rules) {
      assert.match(r.expr, /namespace="team-a"/, `${r.alert} is scoped to the namespace`);
      assert.match(r.expr, /service="demo"|pod=~"\(demo-blue\|demo-green\)-|persistentvolumeclaim="demo-data"/, `${r.alert} is scoped to the assistant`);
      assert.equal(r.labels["aiassistant"], "demo");
    }
  });

  it("leave out the volume alert without a volume, and the downtime alert when scaled to zero", function () {
    const postgres = { storage: { mode: "postgres", postgres: { urlSecretRef: { name: "db" } } } };
    const alerts = (spec: Record<string, unknown>) => prometheusRule(monitored(spec))?.spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
    assert.ok(!alerts(postgres)?.includes("AIAssistantVolumeAlmostFull"));
    assert.ok(!alerts({ replicas: 0 })?.includes("AIAssistantDown"));
  });

  it("match a dotted name literally", function () {
    const aia = defaultedAIAssistant({ monitoring: { enabled: true } }, "help.desk");
    assert.equal(serviceMonitor(aia)?.spec.endpoints[0]?.relabelings[0]?.regex, "help[.]desk");
    assert.match(prometheusRule(aia)?.spec.groups[0]?.rules[2]?.expr ?? "", /pod=~"\(help\[\.\]desk-blue\|help\[\.\]desk-green\)-/);
  });
});
