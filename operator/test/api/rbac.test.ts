import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { clusterRules, leaderElectionRules, policyRules } from "../../src/api/rbac.js";
import type { AIAssistant } from "../../src/api/types.generated.js";
import { aiAssistants, condition, createAIAssistant, waitForAIAssistant } from "../support/aiassistant.js";
import { forbiddenSince } from "../support/audit.js";
import { installCRD, kubectl } from "../support/crd.js";
import { createNamespace, eventually, isGone, kubeConfig, uniqueName } from "../support/kube.js";
import { OperatorProcess, printOperatorLogIfFailed } from "../support/operator-process.js";
import { patchAIAssistant } from "../support/rollout.js";
import { serviceAccountKubeconfig } from "../support/service-account.js";
import { StandInControllers } from "../support/stand-in-controllers.js";

const sampleFile = fileURLToPath(new URL("../../../../config/samples/aiassistant.yaml", import.meta.url));

/** Ready for the current generation, with no rollout in flight and nothing Degraded. */
const settled = (aia: AIAssistant) =>
  aia.status?.observedGeneration === aia.metadata.generation &&
  condition(aia, "Ready")?.status === "True" &&
  condition(aia, "Degraded")?.status === "False" &&
  aia.status?.lastRollout?.phase !== "Progressing";

describe("the RBAC list of operator/src/api/rbac.ts on a real API server", function () {
  this.timeout(120_000);
  let kc: k8s.KubeConfig;
  let dir: string;
  let namespace: string;
  let operatorNamespace: string;
  let username: string;
  let controllers: StandInControllers | undefined;
  let operator: OperatorProcess | undefined;
  let since: Date;

  before(async function () {
    kc = kubeConfig();
    dir = await mkdtemp(join(tmpdir(), "aia-rbac-"));
    await installCRD(kc);
    namespace = await createNamespace(kc, "rbac-list");
    operatorNamespace = await createNamespace(kc, "rbac-operator");
    // A ServiceAccount bound to the list and nothing else, as the chart and config/rbac bind theirs.
    const name = uniqueName("aia-rbac-list");
    username = `system:serviceaccount:${operatorNamespace}:operator`;
    const subjects = [{ kind: "ServiceAccount", name: "operator", namespace: operatorNamespace }];
    const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    await kc.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace: operatorNamespace, body: { metadata: { name: "operator" } } });
    await rbac.createClusterRole({ body: { metadata: { name }, rules: policyRules(clusterRules) } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name }, subjects } });
    await rbac.createNamespacedRole({ namespace: operatorNamespace, body: { metadata: { name }, rules: policyRules(leaderElectionRules) } });
    await rbac.createNamespacedRoleBinding({
      namespace: operatorNamespace,
      body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects },
    });
    controllers = new StandInControllers(kc, namespace).start();
    since = new Date();
    operator = await new OperatorProcess({
      KUBECONFIG: await serviceAccountKubeconfig(join(dir, "operator.kubeconfig"), operatorNamespace, "operator"),
      WATCH_NAMESPACES: namespace,
      LEADER_ELECTION_NAMESPACE: operatorNamespace,
    }).start();
  });

  after(async function () {
    await operator?.stop();
    await controllers?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    printOperatorLogIfFailed(this.currentTest, operator);
  });

  it("is all the operator needs to take the sample through two rollouts to Ready, with no call refused", async function () {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const configRevisions = async () =>
      (await core.listNamespacedConfigMap({ namespace, labelSelector: "app.kubernetes.io/instance=demo,app.kubernetes.io/component=config" })).items.map((cm) => cm.metadata?.name ?? "");

    await kubectl("apply", "-n", namespace, "-f", sampleFile);
    const first = await waitForAIAssistant(kc, namespace, "demo", settled, { what: "demo to be Ready on blue" });
    assert.equal(first.status?.activeColor, "blue");
    const [firstConfig] = await configRevisions();

    // Each rollout is a cutover (the sample keeps SQLite on its volume): the old color stops, the
    // new one starts behind the preview Service, takes traffic, and the preview Service goes.
    for (const [prompt, color] of [["Answer in one sentence.", "green"], ["Answer in two sentences.", "blue"]] as const) {
      await patchAIAssistant(kc, namespace, "demo", { spec: { systemPrompt: prompt } });
      const rolled = await waitForAIAssistant(
        kc,
        namespace,
        "demo",
        (aia) => settled(aia) && aia.status?.activeColor === color && aia.status.lastRollout?.phase === "Completed",
        { what: `demo to be Ready on ${color} after its rollout`, timeoutMs: 60_000 },
      );
      assert.equal(rolled.status?.stableRevision, rolled.status?.lastRollout?.revision);
      await eventually("the preview Service to be deleted", async () => ((await isGone(core.readNamespacedService({ name: "demo-preview", namespace }))) ? true : undefined));
    }
    await eventually("the config revision no color runs any more to be deleted", async () => ((await configRevisions()).includes(firstConfig ?? "") ? undefined : true));

    // A request annotation with nothing to act on is removed all the same (a patch of the AIAssistant).
    await patchAIAssistant(kc, namespace, "demo", { metadata: { annotations: { "aiassistant.dev/promote": "true" } } });
    await waitForAIAssistant(kc, namespace, "demo", (aia) => aia.metadata.annotations?.["aiassistant.dev/promote"] === undefined, {
      what: "the promote annotation to be removed",
    });
    const lease = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: "aiassistant-operator-leader", namespace: operatorNamespace });
    assert.equal(lease.spec?.holderIdentity, operator?.identity);

    assert.deepEqual(await forbiddenSince(username, since), [], "no write refused");
    assert.doesNotMatch(operator?.output ?? "", /forbidden/i, "no read or write refused");
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const last = (await custom.getNamespacedCustomObject({ ...aiAssistants, namespace, name: "demo" })) as AIAssistant;
    assert.equal(condition(last, "Ready")?.status, "True");
  });

  // Not here: the ServiceMonitor and PrometheusRule rule. Their CRDs, once installed, are there for
  // the whole tier, and monitoring.test.ts needs them missing first.
  it("is all it needs to apply and delete the optional objects, and to hand a volume to its AIAssistant", async function () {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "s3" }, stringData: { accessKeyId: "AKIATEST", secretAccessKey: "not-a-real-key" } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "pg" }, stringData: { url: "postgres://assistant@pg.db.svc:5432/assistant" } } });
    await createAIAssistant(kc, namespace, "extras", {
      networkPolicy: { enabled: true },
      ingress: { enabled: true, host: "chat.example.com", tls: { secretName: "chat-tls" }, allowUnauthenticated: true },
      backup: { enabled: true, s3: { bucket: "backups", credentialsSecretRef: { name: "s3" } } },
    });
    await createAIAssistant(kc, namespace, "scaled", {
      storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } },
      autoscaling: { minReplicas: 2, maxReplicas: 3 },
    });
    const networking = kc.makeApiClient(k8s.NetworkingV1Api);
    const optional = {
      NetworkPolicy: () => networking.readNamespacedNetworkPolicy({ name: "extras", namespace }),
      Ingress: () => networking.readNamespacedIngress({ name: "extras", namespace }),
      CronJob: () => kc.makeApiClient(k8s.BatchV1Api).readNamespacedCronJob({ name: "extras-backup", namespace }),
      HorizontalPodAutoscaler: () => kc.makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: "scaled", namespace }),
      PodDisruptionBudget: () => kc.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget({ name: "scaled", namespace }),
    };
    for (const name of ["extras", "scaled"]) await waitForAIAssistant(kc, namespace, name, settled, { what: `${name} to be Ready`, timeoutMs: 60_000 });
    for (const [kind, read] of Object.entries(optional)) assert.ok(await read(), kind);
    // Handing the volume to the AIAssistant changes its owner references, which clusters enforcing
    // owner-reference permissions (this one does) allow only to those who may delete it.
    assert.equal((await core.readNamespacedPersistentVolumeClaim({ name: "extras-data", namespace })).metadata?.ownerReferences, undefined);
    await patchAIAssistant(kc, namespace, "extras", { spec: { storage: { deletePolicy: "Delete" } } });
    await eventually("the volume to be owned by its AIAssistant", async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ name: "extras-data", namespace });
      return claim.metadata?.ownerReferences?.some((owner) => owner.kind === "AIAssistant") === true ? true : undefined;
    });

    await patchAIAssistant(kc, namespace, "extras", { spec: { networkPolicy: { enabled: false }, ingress: { enabled: false }, backup: { enabled: false } } });
    await patchAIAssistant(kc, namespace, "scaled", { spec: { autoscaling: null, replicas: 1 } });
    for (const [kind, read] of Object.entries(optional)) {
      await eventually(`the ${kind} to be deleted`, async () => ((await isGone(read())) ? true : undefined));
    }
    assert.deepEqual(await forbiddenSince(username, since), [], "no write refused");
    assert.doesNotMatch(operator?.output ?? "", /forbidden/i, "no read or write refused");
  });
});
