import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { createNamespace, eventually, kubeConfig } from "../support/kube.js";

describe("the e2e tier's control plane", function () {
  this.timeout(120_000);
  let kc: k8s.KubeConfig;
  before(function () {
    kc = kubeConfig();
  });

  it("has Ready simulated nodes", async function () {
    const nodes = await kc.makeApiClient(k8s.CoreV1Api).listNode();
    const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    assert.ok(ready.length >= 2, `${ready.length} Ready nodes`);
  });

  it("brings a Deployment of 2 replicas to availableReplicas 2", async function () {
    const namespace = await createNamespace(kc, "proof");
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const labels = { app: "proof" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "proof" },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "main", image: "registry.example/proof:1" }] },
          },
        },
      },
    });
    const available = await eventually(
      "2 available replicas",
      async () => {
        const deployment = await apps.readNamespacedDeployment({ name: "proof", namespace });
        return deployment.status?.availableReplicas === 2 ? 2 : undefined;
      },
      { timeoutMs: 90_000 },
    );
    assert.equal(available, 2);
  });
});
