import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  KubernetesObject,
  V1ClusterRole,
  V1ConfigMap,
  V1CustomResourceDefinition,
  V1Deployment,
  V1PolicyRule,
  V1Role,
  V1Service,
} from "@kubernetes/client-node";
import { chartDir, documents, renderChart } from "../support/chart.js";
import { helm, runPinned } from "../support/tools.js";
import type { ServiceMonitor } from "../../src/resources/monitoring.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const allValues = join(chartDir, "ci/all-values.yaml");

// The type argument names the kind the caller asked for by its `kind` string.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
function only<T extends KubernetesObject>(objects: KubernetesObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}, found ${found.length}`);
  return found[0] as T;
}

/** The permissions a set of rules grants, one "group resource verb" string each: grouping and order don't matter. */
function grants(rules: V1PolicyRule[] | undefined): string[] {
  const out = new Set<string>();
  for (const rule of rules ?? []) {
    for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs) out.add(`${group} ${resource} ${verb}`);
  }
  return [...out].sort();
}

const kustomize = async (dir: string) => documents(await runPinned("kubectl", ["kustomize", `${root}config/${dir}`]));

describe("the Helm chart", function () {
  this.timeout(60_000);

  it("lints clean with --strict, with the default values and with ci/all-values.yaml", async function () {
    assert.match(await helm("lint", "--strict", chartDir), /1 chart\(s\) linted, 0 chart\(s\) failed/);
    assert.match(await helm("lint", "--strict", chartDir, "--values", allValues), /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("rejects values its schema does not know, or of the wrong type", async function () {
    for (const bad of ["operator.workerz=3", "replicaCount=0", "serviceMonitor.interval=soon", "image.pullPolicy=Sometimes"]) {
      await assert.rejects(renderChart("--set", bad), /values don't meet the specifications of the schema/, bad);
    }
  });

  it("runs a leader-elected, restricted, probed operator with two replicas by default", async function () {
    const deployment = only<V1Deployment>(await renderChart(), "Deployment");
    assert.equal(deployment.spec?.replicas, 2);
    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(pod?.serviceAccountName, "ai-assistant-operator");
    assert.deepEqual(pod?.securityContext, { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    assert.deepEqual(container?.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
    assert.equal(container?.startupProbe?.httpGet?.path, "/healthz");
    assert.equal(container?.livenessProbe?.httpGet?.path, "/healthz");
    assert.equal(container?.readinessProbe?.httpGet?.path, "/readyz");
    assert.deepEqual(container?.resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "768Mi" } });
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]));
    assert.equal(env["LEADER_ELECT"], "true");
    assert.equal(env["POD_NAMESPACE"], "metadata.namespace", "the Lease lives in the release namespace");
    assert.equal(env["WATCH_NAMESPACES"], "");
  });

  it("renders every value of ci/all-values.yaml into the objects", async function () {
    const objects = await renderChart("--values", allValues);
    const deployment = only<V1Deployment>(objects, "Deployment");
    const pod = deployment.spec?.template.spec;
    const env = Object.fromEntries((pod?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(deployment.metadata?.name, "aia-operator-ci");
    assert.equal(deployment.spec?.replicas, 3);
    assert.equal(pod?.containers[0]?.image, "registry.example.com/mirror/ai-assistant-operator:0.1.0-ci");
    assert.equal(pod?.serviceAccountName, "aia-operator-ci-sa");
    assert.equal(pod?.priorityClassName, "aia-operator-ci");
    assert.deepEqual([env["WATCH_NAMESPACES"], env["WORKERS"], env["RESYNC_SECONDS"], env["WATCH_STALE_SECONDS"], env["LOG_LEVEL"]], ["team-a,team-b", "8", "300", "120", "debug"]);
    assert.ok(pod?.affinity?.podAntiAffinity && pod.tolerations?.length === 1 && pod.topologySpreadConstraints?.length === 1 && pod.nodeSelector);
    assert.equal(deployment.spec?.template.metadata?.labels?.["example.com/tier"], "control");
    assert.deepEqual(
      objects.map((o) => o.kind).sort(),
      ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "CustomResourceDefinition", "Deployment", "PrometheusRule", "Role", "RoleBinding", "Service", "ServiceAccount", "ServiceMonitor"],
    );
    const dashboard = only<V1ConfigMap>(objects, "ConfigMap");
    assert.equal(dashboard.metadata?.namespace, "monitoring");
    assert.equal(dashboard.metadata?.labels?.["grafana_dashboard"], "1");
    const json = await readFile(join(chartDir, "dashboards/ai-assistant.json"), "utf8");
    assert.equal(dashboard.data?.["ai-assistant.json"], json);
    const service = only<V1Service>(objects, "Service");
    const monitor = only<ServiceMonitor>(objects, "ServiceMonitor");
    assert.equal(service.spec?.ports?.[0]?.port, 9090);
    assert.deepEqual(monitor.spec.selector.matchLabels, Object.fromEntries(Object.entries(service.metadata?.labels ?? {}).filter(([k]) => k in monitor.spec.selector.matchLabels)));
    assert.equal(monitor.spec.endpoints[0]?.port, service.spec?.ports?.[0]?.name);
  });

  it("grants exactly the RBAC of config/rbac and installs exactly the CRD of config/crd", async function () {
    const [chart, kustomized] = await Promise.all([renderChart(), kustomize("default")]);
    assert.deepEqual(grants(only<V1ClusterRole>(chart, "ClusterRole").rules), grants(only<V1ClusterRole>(kustomized, "ClusterRole").rules));
    assert.deepEqual(grants(only<V1Role>(chart, "Role").rules), grants(only<V1Role>(kustomized, "Role").rules));
    assert.ok(grants(only<V1ClusterRole>(chart, "ClusterRole").rules).length > 10);
    assert.deepEqual(only<V1CustomResourceDefinition>(chart, "CustomResourceDefinition"), only<V1CustomResourceDefinition>(kustomized, "CustomResourceDefinition"));
  });

  it("scrapes the operator as config/prometheus does: the metrics Service selects the operator pods", async function () {
    const [chart, monitoring, kustomized] = await Promise.all([renderChart("--set", "serviceMonitor.enabled=true"), kustomize("prometheus"), kustomize("default")]);
    for (const [objects, deployment] of [
      [chart, only<V1Deployment>(chart, "Deployment")],
      [monitoring, only<V1Deployment>(kustomized, "Deployment")],
    ] as const) {
      const service = only<V1Service>(objects, "Service");
      const monitor = only<ServiceMonitor>(objects, "ServiceMonitor");
      const podLabels = deployment.spec?.template.metadata?.labels ?? {};
      for (const [key, value] of Object.entries(service.spec?.selector ?? {})) assert.equal(podLabels[key], value, `the Service selects ${key}`);
      for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata?.labels?.[key], value, `the monitor selects ${key}`);
      const port = service.spec?.ports?.find((p) => p.name === monitor.spec.endpoints[0]?.port);
      assert.ok(deployment.spec?.template.spec?.containers[0]?.ports?.some((p) => p.name === port?.targetPort), "the Service targets the container's port");
      assert.equal(monitor.spec.endpoints[0]?.path, "/metrics");
      assert.equal(service.metadata?.namespace, deployment.metadata?.namespace);
    }
  });
});
