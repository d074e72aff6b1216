import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { condition, createAIAssistant, waitForAIAssistant } from "../support/aiassistant.js";
import { installCRD } from "../support/crd.js";
import { kubeConfig, uniqueName } from "../support/kube.js";
import { OperatorProcess } from "../support/operator-process.js";

describe("the restricted Pod Security Standard", function () {
  this.timeout(120_000);
  let kc: k8s.KubeConfig;
  let operator: OperatorProcess;
  const namespace = uniqueName("restricted");

  before(async function () {
    kc = kubeConfig();
    await installCRD(kc);
    const levels = Object.fromEntries(["enforce", "warn", "audit"].map((mode) => [`pod-security.kubernetes.io/${mode}`, "restricted"]));
    await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace, labels: levels } } });
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
  });

  after(async function () {
    await operator.stop();
  });

  it("admits every pod the operator creates in a namespace that enforces it", async function () {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "pg" }, stringData: { url: "postgres://assistant@pg.db.svc:5432/assistant" } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "keys" }, stringData: { ops: "sha256:" + "0".repeat(64) } } });
    await createAIAssistant(kc, namespace, "strict", {
      replicas: 2,
      storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } },
      auth: { mode: "apiKey", apiKeysSecretRef: { name: "keys" } },
      ingress: { enabled: true, host: "chat.example.com", tls: { secretName: "chat-tls" } },
      networkPolicy: { enabled: true },
    });
    // The ReplicaSet controller's pod creations go through Pod Security admission: a violation
    // would leave the Deployment short of pods with a FailedCreate condition.
    const ready = await waitForAIAssistant(kc, namespace, "strict", (aia) => condition(aia, "Ready")?.status === "True" && aia.status?.readyReplicas === 2, {
      what: "strict to be Ready with 2 pods admitted",
      timeoutMs: 90_000,
    });
    assert.equal(ready.status?.replicas, 2);
    const replicaSets = await kc.makeApiClient(k8s.AppsV1Api).listNamespacedReplicaSet({ namespace });
    const failures = replicaSets.items.flatMap((rs) => rs.status?.conditions ?? []).filter((c) => c.type === "ReplicaFailure");
    assert.deepEqual(failures, []);
    const pods = await core.listNamespacedPod({ namespace });
    assert.equal(pods.items.length, 2);
  });
});
