import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { condition, createAIAssistant, waitForAIAssistant } from "../support/aiassistant.js";
import { installCRD, kubectl } from "../support/crd.js";
import { createNamespace, eventually, kubeConfig } from "../support/kube.js";
import { OperatorProcess } from "../support/operator-process.js";

describe("the backup CronJob on a full control plane", function () {
  this.timeout(120_000);
  let kc: k8s.KubeConfig;
  let namespace: string;
  let operator: OperatorProcess;

  before(async function () {
    kc = kubeConfig();
    await installCRD(kc);
    namespace = await createNamespace(kc, "backup");
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
  });

  after(async function () {
    await operator.stop();
  });

  it("runs its Job on the node of the assistant's pod, where the ReadWriteOnce volume is attached", async function () {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createPersistentVolume({
      body: { metadata: { name: `${namespace}-pv` }, spec: { capacity: { storage: "5Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: `/srv/${namespace}` } } },
    });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "s3" }, stringData: { AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret" } } });
    await createAIAssistant(kc, namespace, "kept", {
      backup: { enabled: true, retentionCount: 5, s3: { endpoint: "http://s3.storage.svc:9000", bucket: "backups", credentialsSecretRef: { name: "s3" } } },
    });
    await waitForAIAssistant(kc, namespace, "kept", (aia) => condition(aia, "Ready")?.status === "True", { what: "kept to be Ready", timeoutMs: 90_000 });
    const cronJob = await kc.makeApiClient(k8s.BatchV1Api).readNamespacedCronJob({ name: "kept-backup", namespace });
    assert.equal(cronJob.spec?.schedule, "0 3 * * *");

    await kubectl("create", "job", "-n", namespace, "--from=cronjob/kept-backup", "kept-backup-now");
    const job = await eventually(
      "the backup Job to complete",
      async () => {
        const j = await kc.makeApiClient(k8s.BatchV1Api).readNamespacedJob({ name: "kept-backup-now", namespace });
        return (j.status?.succeeded ?? 0) > 0 ? j : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(job.status?.succeeded, 1);
    const pods = await core.listNamespacedPod({ namespace });
    const node = (component: string) => pods.items.find((p) => p.metadata?.labels?.["app.kubernetes.io/component"] === component)?.spec?.nodeName;
    assert.ok(node("assistant"));
    assert.equal(node("backup"), node("assistant"), "scheduled next to the assistant's pod");
  });
});
