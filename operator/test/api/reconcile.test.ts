import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { aiAssistants, condition, converged, readAIAssistant, waitForAIAssistant } from "../support/aiassistant.js";
import { writesSince } from "../support/audit.js";
import { installCRD, kubectl } from "../support/crd.js";
import { createNamespace, eventually, isGone, kubeConfig, plain } from "../support/kube.js";
import { OperatorProcess, printOperatorLogIfFailed } from "../support/operator-process.js";
import { fieldManager } from "../../src/resources/metadata.js";
import { previewService } from "../../src/resources/network.js";

const { group, version, plural } = aiAssistants;
const sampleFile = fileURLToPath(new URL("../../../../config/samples/aiassistant.yaml", import.meta.url));

describe("reconciling an AIAssistant on a real API server", function () {
  this.timeout(90_000);
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  let custom: k8s.CustomObjectsApi;
  let namespace: string;
  let operator: OperatorProcess | undefined;

  before(async function () {
    kc = kubeConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    await installCRD(kc);
    namespace = await createNamespace(kc, "reconcile");
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
  });

  after(async function () {
    await operator?.stop();
  });

  afterEach(function () {
    printOperatorLogIfFailed(this.currentTest, operator);
  });

  const read = (name: string) => readAIAssistant(kc, namespace, name);
  /** The assistant config a color's pods mount (one ConfigMap per config revision). */
  const configOf = async (deploymentName: string) => {
    const deployment = await apps.readNamespacedDeployment({ name: deploymentName, namespace });
    const name = deployment.spec?.template.spec?.volumes?.find((v) => v.name === "config")?.configMap?.name ?? "";
    return core.readNamespacedConfigMap({ name, namespace });
  };
  const reconciled = (name: string) => waitForAIAssistant(kc, namespace, name, converged);

  it("turns the sample into its owned objects", async function () {
    await kubectl("apply", "-n", namespace, "-f", sampleFile);
    const aia = await reconciled("demo");
    const owner = { apiVersion: `${group}/${version}`, kind: "AIAssistant", name: "demo", uid: aia.metadata.uid, controller: true, blockOwnerDeletion: true };

    const [sa, cm, deployment, stable, pvc] = await Promise.all([
      core.readNamespacedServiceAccount({ name: "demo", namespace }),
      configOf("demo-blue"),
      apps.readNamespacedDeployment({ name: "demo-blue", namespace }),
      core.readNamespacedService({ name: "demo", namespace }),
      core.readNamespacedPersistentVolumeClaim({ name: "demo-data", namespace }),
    ]);
    for (const object of [sa, cm, deployment, stable]) {
      assert.deepEqual(plain(object.metadata?.ownerReferences), [owner], object.metadata?.name);
      assert.equal(object.metadata?.labels?.["app.kubernetes.io/managed-by"], "aiassistant-operator");
      const managers = object.metadata?.managedFields?.filter((f) => f.operation === "Apply").map((f) => f.manager);
      assert.deepEqual(managers, ["aiassistant-operator"], `${object.metadata?.name ?? ""} applied by one field manager`);
    }
    assert.equal(pvc.metadata?.ownerReferences, undefined, "user data outlives the AIAssistant by default");
    assert.equal(pvc.spec?.resources?.requests?.["storage"], "1Gi");

    const pod = deployment.spec?.template.spec;
    assert.equal(pod?.containers[0]?.readinessProbe?.httpGet?.path, "/readyz");
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.containers[0]?.securityContext?.readOnlyRootFilesystem, true);
    assert.ok(pod?.volumes?.some((v) => v.configMap?.name === "demo-handbook"), "the knowledge ConfigMap is mounted");
    assert.equal(stable.spec?.selector?.["aiassistant.dev/color"], "blue");
    await assert.rejects(core.readNamespacedService({ name: "demo-preview", namespace }), "no preview Service, so no ClusterIP for it, before a rollout");
    assert.match(cm.data?.["config.yaml"] ?? "", /provider: extractive/);
    assert.equal(cm.immutable, true);
    assert.equal(deployment.metadata?.annotations?.["aiassistant.dev/revision"], aia.status?.stableRevision);
    await assert.rejects(apps.readNamespacedDeployment({ name: "demo-green", namespace }), "no idle color before the first rollout");

    // No controller-manager runs in this tier, so pods never come: Ready waits for them.
    assert.equal(condition(aia, "Ready")?.status, "False");
    assert.equal(condition(aia, "Progressing")?.status, "True");
    assert.equal(condition(aia, "Degraded")?.status, "False");
    assert.equal(aia.status?.activeColor, "blue");
    assert.equal(aia.status?.endpoint, `http://demo.${namespace}.svc`);

    const events = await core.listNamespacedEvent({ namespace, fieldSelector: "involvedObject.name=demo,involvedObject.kind=AIAssistant" });
    assert.ok(events.items.some((e) => e.reason === "Created" && e.message?.includes("Deployment demo-blue")), "an Event says what was created");
  });

  it("rolls a spec change out on the idle color, leaving the active color and its config as they were", async function () {
    const before = await read("demo");
    const blueBefore = await apps.readNamespacedDeployment({ name: "demo-blue", namespace });
    await custom.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: "demo", body: { spec: { systemPrompt: "请用中文回答。" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const rolling = await reconciled("demo");
    assert.equal(rolling.status?.activeColor, "blue");
    assert.equal(rolling.status?.stableRevision, before.status?.stableRevision);
    assert.equal(rolling.status?.lastRollout?.phase, "Progressing");
    assert.equal(rolling.status?.lastRollout?.fromRevision, before.status?.stableRevision);
    assert.equal(condition(rolling, "Progressing")?.reason, "RolloutInProgress");
    assert.equal(condition(rolling, "PreviewReady")?.status, "False");

    const green = await apps.readNamespacedDeployment({ name: "demo-green", namespace });
    assert.equal(green.metadata?.annotations?.["aiassistant.dev/revision"], rolling.status?.lastRollout?.revision);
    assert.match((await configOf("demo-green")).data?.["config.yaml"] ?? "", /systemPrompt: 请用中文回答。/);
    const blue = await apps.readNamespacedDeployment({ name: "demo-blue", namespace });
    assert.deepEqual(plain(blue.spec?.template), plain(blueBefore.spec?.template), "the active color keeps its pod template");
    assert.match((await configOf("demo-blue")).data?.["config.yaml"] ?? "", /systemPrompt: You are the helpdesk assistant/, "and its config");
    // The sample keeps its conversations in SQLite on a ReadWriteOnce volume: one process at a time,
    // which the assistant sees to (the new one waits for the old one to let go of the volume). With
    // no kubelet here no pod of blue runs, so there is nothing to hand over.
    assert.equal(rolling.status?.lastRollout?.mode, "Cutover");
    assert.deepEqual([blue.spec?.replicas, green.spec?.replicas], [0, 1], "blue stops as green starts");
    const stable = await core.readNamespacedService({ name: "demo", namespace });
    // Nothing else serves during a cutover: the stable Service leaves the stopping pod at once, so
    // clients are refused rather than sent to a pod on its way out, and reach green once it is ready.
    assert.equal(stable.spec?.selector?.["aiassistant.dev/color"], "green", "the stable Service selects the starting color");
    const preview = await core.readNamespacedService({ name: "demo-preview", namespace });
    assert.equal(preview.spec?.selector?.["aiassistant.dev/color"], "green", "the preview Service comes with the rollout, on the new color");
    assert.match(preview.spec?.clusterIP ?? "", /^10\.96\./, "a ClusterIP, so in-cluster clients can try it on port 80");
  });

  it("sends no write at all when everything is in place, even across a restart and full resync", async function () {
    await reconciled("demo");
    await operator?.stop();
    const since = new Date();
    const restarted = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
    operator = restarted;
    await eventually("the new operator to reconcile demo", () => (/"name":"demo".*"msg":"reconciled"/.test(restarted.output) ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const writes = await writesSince(namespace, since);
    assert.deepEqual(writes.map((w) => `${w.verb} ${w.requestURI}`), []);
  });

  it("converges on a change made while no operator was running, from the cluster alone", async function () {
    await operator?.stop();
    await custom.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: "demo", body: { spec: { systemPrompt: "Answer in one sentence." } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
    const superseded = await reconciled("demo");
    assert.equal(superseded.status?.lastRollout?.phase, "Progressing", "the new change supersedes the unfinished rollout");
    assert.match((await configOf("demo-green")).data?.["config.yaml"] ?? "", /systemPrompt: Answer in one sentence\./);
    const configs = await core.listNamespacedConfigMap({ namespace, labelSelector: "app.kubernetes.io/instance=demo,app.kubernetes.io/component=config" });
    assert.equal(configs.items.length, 2, "the superseded config revision is deleted; blue's and green's stay");
  });

  it("reports a missing Secret as Degraded, then converges once it exists", async function () {
    await custom.createNamespacedCustomObject({
      group, version, namespace, plural,
      body: {
        apiVersion: `${group}/${version}`, kind: "AIAssistant", metadata: { name: "llm" },
        spec: { model: { provider: "openai", baseURL: "http://vllm.models.svc:8000/v1", name: "qwen2.5", apiKeySecretRef: { name: "llm-key" } } },
      },
    });
    const degraded = await eventually("Degraded SecretNotFound", async () => {
      const aia = await read("llm");
      return condition(aia, "Degraded")?.reason === "SecretNotFound" ? aia : undefined;
    });
    assert.equal(condition(degraded, "Degraded")?.status, "True");
    assert.match(condition(degraded, "Degraded")?.message ?? "", /spec\.model\.apiKeySecretRef: Secret llm-key not found/);
    assert.equal(condition(degraded, "Ready")?.status, "False");
    await assert.rejects(apps.readNamespacedDeployment({ name: "llm-blue", namespace }), "no Deployment that would fail on a missing Secret");

    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "llm-key" }, stringData: { apiKey: "sk-test-not-a-real-key" } } });
    const healed = await eventually(
      "Degraded to clear",
      async () => {
        const aia = await read("llm");
        return condition(aia, "Degraded")?.status === "False" ? aia : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(condition(healed, "Degraded")?.reason, "Reconciled");
    const deployment = await apps.readNamespacedDeployment({ name: "llm-blue", namespace });
    const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
    assert.deepEqual(plain(env.find((e) => e.name === "MODEL_API_KEY")?.valueFrom?.secretKeyRef), { name: "llm-key", key: "apiKey" });
  });

  it("reports an object the API server refuses as Degraded ApplyRejected, and recovers once the spec is fixed", async function () {
    await custom.createNamespacedCustomObject({
      group, version, namespace, plural,
      body: { apiVersion: `${group}/${version}`, kind: "AIAssistant", metadata: { name: "badenv" }, spec: { env: [{ name: "NOT=A NAME", value: "x" }] } },
    });
    const rejected = await eventually("Degraded ApplyRejected", async () => {
      const aia = await read("badenv");
      return condition(aia, "Degraded")?.reason === "ApplyRejected" ? aia : undefined;
    });
    assert.match(condition(rejected, "Degraded")?.message ?? "", /Deployment badenv-blue: .*env/);
    assert.equal(condition(rejected, "Ready")?.status, "False");

    await custom.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: "badenv", body: { spec: { env: [{ name: "GOOD_NAME", value: "x" }] } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const healed = await eventually("Degraded to clear", async () => {
      const aia = await read("badenv");
      return condition(aia, "Degraded")?.status === "False" ? aia : undefined;
    }, { timeoutMs: 60_000 });
    assert.equal(condition(healed, "Degraded")?.reason, "Reconciled");
    const env = (await apps.readNamespacedDeployment({ name: "badenv-blue", namespace })).spec?.template.spec?.containers[0]?.env ?? [];
    assert.ok(env.some((variable) => variable.name === "GOOD_NAME"));
  });

  it("reports a spec the schema admits but no object can be built from as Degraded InvalidSpec", async function () {
    await custom.createNamespacedCustomObject({
      group, version, namespace, plural,
      body: {
        apiVersion: `${group}/${version}`, kind: "AIAssistant", metadata: { name: "badport" },
        spec: { skills: [{ name: "erp", description: "Order lookup", endpoint: { url: "http://erp.apps.svc:99999/orders" } }] },
      },
    });
    const invalid = await eventually("Degraded InvalidSpec", async () => {
      const aia = await read("badport");
      return condition(aia, "Degraded")?.reason === "InvalidSpec" ? aia : undefined;
    });
    assert.match(condition(invalid, "Degraded")?.message ?? "", /Invalid URL/);
  });

  it("scales through /scale and manages the HPA and PDB of a postgres-backed assistant", async function () {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "pg" }, stringData: { url: "postgres://assistant@pg.db.svc:5432/assistant" } } });
    await custom.createNamespacedCustomObject({
      group, version, namespace, plural,
      body: {
        apiVersion: `${group}/${version}`, kind: "AIAssistant", metadata: { name: "scaled" },
        spec: {
          storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } },
          resources: { requests: { cpu: "1500m" } },
          autoscaling: { minReplicas: 2, maxReplicas: 5 },
        },
      },
    });
    await reconciled("scaled");
    const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
    const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "scaled", namespace });
    assert.deepEqual(plain(hpa.spec?.scaleTargetRef), { apiVersion: `${group}/${version}`, kind: "AIAssistant", name: "scaled" });
    assert.equal(hpa.spec?.metrics?.[0]?.resource?.target.averageUtilization, 33, "half a core of the 1.5 requested");

    await custom.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: "scaled", body: { spec: { autoscaling: { targetCPUUtilizationPercentage: 90 } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const warning = await eventually("a Warning that the explicit target lets pods saturate", async () => {
      const events = await core.listNamespacedEvent({ namespace, fieldSelector: "involvedObject.name=scaled,involvedObject.kind=AIAssistant,type=Warning" });
      return events.items.find((e) => e.reason === "AutoscalingTargetUnreachable");
    });
    assert.match(warning.message ?? "", /90% of its CPU request \(1\.35 CPU\).*\(33 holds half a CPU\)/);
    const raised = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "scaled", namespace });
    assert.equal(raised.spec?.metrics?.[0]?.resource?.target.averageUtilization, 90, "the explicit target is applied all the same");
    const policy = kc.makeApiClient(k8s.PolicyV1Api);
    await policy.readNamespacedPodDisruptionBudget({ name: "scaled", namespace });

    await kubectl("scale", "-n", namespace, "aia/scaled", "--replicas=3");
    await eventually("the Deployment to follow /scale", async () => {
      const d = await apps.readNamespacedDeployment({ name: "scaled-blue", namespace });
      return d.spec?.replicas === 3 ? true : undefined;
    });

    await custom.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: "scaled", body: { spec: { autoscaling: null, replicas: 1 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await eventually("the HPA and PDB to go", async () => {
      const [h, p] = await Promise.all([
        isGone(autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "scaled", namespace })),
        isGone(policy.readNamespacedPodDisruptionBudget({ name: "scaled", namespace })),
      ]);
      return h && p ? true : undefined;
    });
  });

  it("deletes the preview Service an earlier operator kept at all times, freeing its ClusterIP", async function () {
    const aia = await reconciled("scaled");
    assert.equal(aia.status?.lastRollout, undefined);
    // What operators before this one applied for every AIAssistant, rollout or not.
    const legacy = previewService(aia, "blue");
    await k8s.KubernetesObjectApi.makeApiClient(kc).patch(legacy, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply);
    // Its own watch event requeues the owner; nothing else has to happen.
    await eventually("the idle preview Service to be deleted", async () => ((await isGone(core.readNamespacedService({ name: "scaled-preview", namespace }))) ? true : undefined));
  });

  it("reads the sample back through kubectl's printer columns", async function () {
    const table = await kubectl("get", "aia", "-n", namespace, "demo");
    assert.match(table.split("\n")[0] ?? "", /NAME\s+READY\s+ACTIVE\s+REPLICAS\s+ROLLOUT\s+ENDPOINT\s+AGE/);
    assert.match(table, new RegExp(`demo\\s+False\\s+blue\\s+0\\s+Progressing\\s+http://demo\\.${namespace}\\.svc`));
  });
});
