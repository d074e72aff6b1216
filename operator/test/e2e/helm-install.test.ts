import assert from "node:assert/strict";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { chartDir, documents } from "../support/chart.js";
import { installPrometheusOperatorCRDs } from "../support/crd.js";
import { eventually, isGone, kubeConfig, uniqueName } from "../support/kube.js";
import { helm } from "../support/tools.js";

/** Waits until the Deployment has all its replicas available, and returns their number. */
function available(kc: k8s.KubeConfig, namespace: string, name: string, replicas: number): Promise<number> {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  return eventually(
    `${replicas} available replicas of ${namespace}/${name}`,
    async () => {
      const deployment = await apps.readNamespacedDeployment({ name, namespace });
      return deployment.status?.availableReplicas === replicas ? replicas : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

describe("helm install of the chart on a full control plane", function () {
  this.timeout(300_000);
  let kc: k8s.KubeConfig;
  let objects: k8s.KubernetesObjectApi;

  before(function () {
    kc = kubeConfig();
    objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  });

  describe("with the default values", function () {
    const namespace = uniqueName("helm-default");
    let manifest: k8s.KubernetesObject[] = [];

    it("installs, and the operator Deployment becomes Available with two replicas on the simulated nodes", async function () {
      const output = await helm("install", "aia", chartDir, "--namespace", namespace, "--create-namespace", "--wait", "--timeout", "3m");
      assert.match(output, /STATUS: deployed/);
      assert.match(output, new RegExp(`kubectl -n ${namespace} rollout status deployment/aia-ai-assistant-operator`), "NOTES.txt says what to do next");
      assert.equal(await available(kc, namespace, "aia-ai-assistant-operator", 2), 2);
      const pods = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace, labelSelector: "app.kubernetes.io/instance=aia" });
      assert.deepEqual(new Set(pods.items.map((p) => p.spec?.nodeName?.startsWith("kwok-node-"))), new Set([true]));
      const crd = await kc.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: "aiassistants.aiassistant.dev" });
      assert.ok(crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"));
      manifest = documents(await helm("get", "manifest", "aia", "--namespace", namespace));
      assert.deepEqual(
        manifest.map((o) => o.kind).sort(),
        ["ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount"],
      );
    });

    it("uninstalls every object of the release but keeps the CRD, as Helm does with crds/", async function () {
      assert.ok(manifest.length > 0, "installed first");
      await helm("uninstall", "aia", "--namespace", namespace, "--wait", "--timeout", "2m");
      for (const object of manifest) {
        const header = { apiVersion: object.apiVersion ?? "", kind: object.kind ?? "", metadata: { name: object.metadata?.name ?? "", namespace: object.metadata?.namespace ?? "" } };
        assert.ok(await isGone(objects.read(header)), `${object.kind ?? ""} ${object.metadata?.name ?? ""} is gone`);
      }
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await eventually("the operator's pods to be collected", async () => {
        const pods = await core.listNamespacedPod({ namespace, labelSelector: "app.kubernetes.io/instance=aia" });
        return pods.items.length === 0 ? true : undefined;
      });
      await kc.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: "aiassistants.aiassistant.dev" });
    });
  });

  describe("with ci/all-values.yaml, which sets every value", function () {
    const namespace = uniqueName("helm-all");

    before(async function () {
      // What a cluster offering these values has: the Prometheus Operator's CRDs, the priority
      // class and the namespace Grafana's sidecar watches.
      await installPrometheusOperatorCRDs(kc);
      await kc.makeApiClient(k8s.SchedulingV1Api).createPriorityClass({ body: { metadata: { name: "aia-operator-ci" }, value: 1000 } });
      await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: "monitoring" } } });
    });

    after(async function () {
      await helm("uninstall", "aia-ci", "--namespace", namespace, "--wait", "--timeout", "2m");
    });

    it("installs, with its monitoring objects accepted by their real CRDs, and three replicas become Available", async function () {
      await helm("install", "aia-ci", chartDir, "--namespace", namespace, "--create-namespace", "--values", join(chartDir, "ci/all-values.yaml"), "--wait", "--timeout", "3m");
      assert.equal(await available(kc, namespace, "aia-operator-ci", 3), 3);
      const custom = kc.makeApiClient(k8s.CustomObjectsApi);
      for (const plural of ["servicemonitors", "prometheusrules"]) {
        const object = (await custom.getNamespacedCustomObject({ group: "monitoring.coreos.com", version: "v1", plural, namespace, name: "aia-operator-ci" })) as k8s.KubernetesObject;
        assert.equal(object.metadata?.labels?.["release"], "kube-prometheus-stack");
      }
      const dashboard = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name: "aia-operator-ci-dashboard", namespace: "monitoring" });
      assert.equal(dashboard.metadata?.labels?.["grafana_dashboard"], "1");
    });
  });
});
