import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { aiAssistants, condition, waitForAIAssistant } from "../support/aiassistant.js";
import { installCRD, kubectl } from "../support/crd.js";
import { createNamespace, eventually, isGone, kubeConfig } from "../support/kube.js";
import { OperatorProcess, printOperatorLogIfFailed } from "../support/operator-process.js";
import { PodRunner } from "../support/pod-runner.js";

const sampleFile = fileURLToPath(new URL("../../../../config/samples/aiassistant.yaml", import.meta.url));

describe("an AIAssistant's life on a full control plane", function () {
  this.timeout(180_000);
  let kc: k8s.KubeConfig;
  let namespace: string;
  let operator: OperatorProcess | undefined;

  before(async function () {
    kc = kubeConfig();
    await installCRD(kc);
    namespace = await createNamespace(kc, "life");
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
  });

  after(async function () {
    await operator?.stop();
  });

  afterEach(function () {
    printOperatorLogIfFailed(this.currentTest, operator);
  });


  it("becomes Ready with its pods Running on the simulated nodes and endpoints behind the Service", async function () {
    // No storage provisioner runs here: a pre-made volume, as a cluster admin would offer, lets
    // the data claim bind so the scheduler can place the pod.
    await kc.makeApiClient(k8s.CoreV1Api).createPersistentVolume({
      body: {
        metadata: { name: `${namespace}-pv` },
        spec: {
          capacity: { storage: "5Gi" },
          accessModes: ["ReadWriteOnce"],
          persistentVolumeReclaimPolicy: "Retain",
          hostPath: { path: `/srv/${namespace}` },
        },
      },
    });
    await kubectl("apply", "-n", namespace, "-f", sampleFile);
    const ready = await waitForAIAssistant(
      kc,
      namespace,
      "demo",
      (aia) => condition(aia, "Ready")?.status === "True" && condition(aia, "Ready")?.observedGeneration === aia.metadata.generation,
      { what: "demo to be Ready", timeoutMs: 90_000 },
    );
    assert.equal(ready.status?.readyReplicas, 1);
    assert.equal(ready.status?.replicas, 1);
    assert.equal(ready.status?.conditions?.find((c) => c.type === "Progressing")?.status, "False");

    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const slices = await eventually("a ready endpoint behind the stable Service", async () => {
      const list = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: "kubernetes.io/service-name=demo" });
      return list.items.some((s) => s.endpoints.some((e) => e.conditions?.ready === true)) ? list : undefined;
    });
    assert.ok(slices.items.length > 0);
  });

  it("runs the real assistant with the config and knowledge the operator mounted, answering in both languages", async function () {
    const deployment = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: "demo-blue", namespace });
    const pod = await new PodRunner(kc, deployment).start();
    try {
      const ask = async (message: string) => {
        const response = await fetch(`${pod.url}/api/v1/chat`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message }),
        });
        assert.equal(response.status, 200);
        return (await response.json()) as { reply: string; conversationId: string; sources: unknown[] };
      };
      const english = await ask("The VPN connection drops every few minutes, what should I do?");
      assert.match(english.reply, /IKEv2/);
      assert.ok(english.sources.length > 0, "the answer cites the handbook");
      const chinese = await ask("每年有几天带薪年假？");
      assert.match(chinese.reply, /十五天/);
      assert.ok(chinese.sources.length > 0);
    } catch (error) {
      console.log(pod.output.split("\n").slice(-20).join("\n"));
      throw error;
    } finally {
      await pod.stop();
    }
  });

  it("is garbage-collected on delete, except the data volume", async function () {
    await kc.makeApiClient(k8s.CustomObjectsApi).deleteNamespacedCustomObject({ ...aiAssistants, namespace, name: "demo" });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    // The garbage collector learns of a CRD's kind on its next discovery resync (every 30 s).
    await eventually(
      "the owned objects to be collected",
      async () => {
        const results = await Promise.all([
          isGone(apps.readNamespacedDeployment({ name: "demo-blue", namespace })),
          isGone(core.readNamespacedService({ name: "demo", namespace })),
          isGone(core.readNamespacedService({ name: "demo-preview", namespace })),
          core.listNamespacedConfigMap({ namespace, labelSelector: "app.kubernetes.io/instance=demo,app.kubernetes.io/managed-by=aiassistant-operator" }).then((list) => list.items.length === 0),
          isGone(core.readNamespacedServiceAccount({ name: "demo", namespace })),
        ]);
        return results.every(Boolean) ? true : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: "demo-data", namespace });
    assert.equal(pvc.metadata?.deletionTimestamp, undefined, "the conversations survive the AIAssistant");
  });
});
