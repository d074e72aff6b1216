import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { converged, waitForAIAssistant } from "../support/aiassistant.js";
import { kubectl } from "../support/crd.js";
import { createNamespace, eventually, kubeConfig } from "../support/kube.js";
import { OperatorProcess, printOperatorLogIfFailed } from "../support/operator-process.js";
import { serviceAccountKubeconfig } from "../support/service-account.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const operatorNamespace = "aiassistant-system";

describe("kubectl apply -k config/default", function () {
  this.timeout(90_000);
  let kc: k8s.KubeConfig;
  let dir: string;
  let operator: OperatorProcess | undefined;

  before(async function () {
    kc = kubeConfig();
    dir = await mkdtemp(join(tmpdir(), "aia-install-"));
    await kubectl("apply", "--server-side", "-k", `${root}config/default`);
  });

  after(async function () {
    await operator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    printOperatorLogIfFailed(this.currentTest, operator);
  });

  it("installs the CRD, least-privilege RBAC and a leader-elected, restricted operator Deployment", async function () {
    const deployment = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: "aiassistant-operator", namespace: operatorNamespace });
    assert.equal(deployment.spec?.replicas, 2);
    const container = deployment.spec?.template.spec?.containers[0];
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(container?.readinessProbe?.httpGet?.path, "/readyz");
    const role = await kc.makeApiClient(k8s.RbacAuthorizationV1Api).readClusterRole({ name: "aiassistant-operator" });
    for (const rule of role.rules ?? []) {
      assert.ok(!rule.verbs.includes("*") && !(rule.resources ?? []).includes("*") && !(rule.apiGroups ?? []).includes("*"), "no wildcards");
      if (rule.resources?.includes("secrets")) assert.deepEqual(rule.verbs, ["get"], "Secrets are only read one by one, never listed");
    }
  });

  it("is enough for the operator to reconcile the sample as its ServiceAccount", async function () {
    const namespace = await createNamespace(kc, "rbac");
    operator = await new OperatorProcess({
      KUBECONFIG: await serviceAccountKubeconfig(join(dir, "operator.kubeconfig"), operatorNamespace, "aiassistant-operator"),
      WATCH_NAMESPACES: namespace,
      LEADER_ELECTION_NAMESPACE: operatorNamespace,
    }).start();
    await kubectl("apply", "-n", namespace, "-f", `${root}config/samples/aiassistant.yaml`);
    await waitForAIAssistant(kc, namespace, "demo", converged, { what: "demo to be reconciled by the ServiceAccount" });
    await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: "demo-blue", namespace });
    const lease = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: "aiassistant-operator-leader", namespace: operatorNamespace });
    assert.equal(lease.spec?.holderIdentity, operator.identity);
    // Handing the volume to the AIAssistant changes the PVC's owner references, which clusters that
    // enforce owner-reference permissions (this one does) allow only to those who may delete it.
    await kubectl("patch", "aiassistant", "demo", "-n", namespace, "--type=merge", "-p", JSON.stringify({ spec: { storage: { deletePolicy: "Delete" } } }));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await eventually("the volume to be owned by the AIAssistant", async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ name: "demo-data", namespace });
      return claim.metadata?.ownerReferences?.some((owner) => owner.kind === "AIAssistant") === true ? true : undefined;
    });
    assert.doesNotMatch(operator.output, /forbidden/i);
  });
});
