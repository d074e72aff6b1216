import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import type { AIAssistant } from "../../src/api/types.generated.js";
import { condition, createAIAssistant, readAIAssistant, waitForAIAssistant } from "../support/aiassistant.js";
import { installCRD } from "../support/crd.js";
import { createNamespace, eventually, isGone, kubeConfig } from "../support/kube.js";
import { OperatorProcess, printOperatorLogIfFailed } from "../support/operator-process.js";
import { EndpointSampler, patchAIAssistant, requestRollout, waitForRolloutPhase } from "../support/rollout.js";

/**
 * Blue-green rollouts on a full control plane: the Deployment, ReplicaSet and EndpointSlice
 * controllers, the scheduler and the HPA controller are the real ones; kwok plays the kubelets.
 */
describe("blue-green rollouts on a full control plane", function () {
  this.timeout(180_000);
  let kc: k8s.KubeConfig;
  let namespace: string;
  let operator: OperatorProcess;
  let apps: k8s.AppsV1Api;
  let core: k8s.CoreV1Api;

  before(async function () {
    kc = kubeConfig();
    apps = kc.makeApiClient(k8s.AppsV1Api);
    core = kc.makeApiClient(k8s.CoreV1Api);
    await installCRD(kc);
    namespace = await createNamespace(kc, "rollout");
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "pg" }, stringData: { url: "postgres://assistant@pg.db.svc:5432/assistant" } } });
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
  });

  after(async function () {
    await operator.stop();
  });

  afterEach(function () {
    printOperatorLogIfFailed(this.currentTest, operator);
  });

  const read = (name: string) => readAIAssistant(kc, namespace, name);
  const selectedColor = async (service: string) => (await core.readNamespacedService({ name: service, namespace })).spec?.selector?.["aiassistant.dev/color"];
  const replicasOf = async (name: string) => (await apps.readNamespacedDeployment({ name, namespace })).spec?.replicas;
  const imageOf = async (name: string) => (await apps.readNamespacedDeployment({ name, namespace })).spec?.template.spec?.containers[0]?.image;
  const ready = (name: string, replicas: number) =>
    waitForAIAssistant(
      kc,
      namespace,
      name,
      (aia) =>
        aia.status?.observedGeneration === aia.metadata.generation &&
        condition(aia, "Ready")?.status === "True" &&
        aia.status?.readyReplicas === replicas &&
        condition(aia, "Progressing")?.status === "False",
      { what: `${name} to be Ready with ${String(replicas)} pods`, timeoutMs: 90_000 },
    );

  /** A stateless (postgres-backed) assistant, so both colors can run at once. */
  const create = (name: string, spec: Record<string, unknown>): Promise<AIAssistant> =>
    createAIAssistant(kc, namespace, name, { image: "ai-assistant:v1", storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } }, ...spec });
  const setImage = (name: string, image: string) => patchAIAssistant(kc, namespace, name, { spec: { image } });

  it("switches the stable Service only when the new color is ready, never losing capacity, and scales the old one down after the delay", async function () {
    await create("happy", { autoscaling: { minReplicas: 3, maxReplicas: 6 }, rollout: { scaleDownDelaySeconds: 5 } });
    // No pod sets replicas: the HPA controller raises the AIAssistant to minReplicas through /scale.
    const before = await ready("happy", 3);
    assert.equal(before.spec.replicas, 3);
    const hpa = await kc.makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: "happy", namespace });
    assert.deepEqual([hpa.spec?.minReplicas, hpa.spec?.maxReplicas, hpa.spec?.scaleTargetRef.kind], [3, 6, "AIAssistant"]);
    assert.equal(before.status?.selector, "app.kubernetes.io/name=ai-assistant,app.kubernetes.io/instance=happy,aiassistant.dev/color=blue");

    const sampler = await new EndpointSampler(kc, namespace, "happy").start(3);
    await setImage("happy", "ai-assistant:v2");
    const promoted = await waitForRolloutPhase(kc, namespace, "happy", "Promoted");
    assert.equal(promoted.status?.activeColor, "green");
    assert.equal(await selectedColor("happy"), "green");
    assert.equal(await selectedColor("happy-preview"), "blue");
    assert.equal(await replicasOf("happy-blue"), 3, "the old color stays up for scaleDownDelaySeconds");
    assert.ok(promoted.status?.lastRollout?.previewReadyAt, "promoted only after the preview was ready");

    const completed = await waitForRolloutPhase(kc, namespace, "happy", "Completed");
    await sampler.stop();
    // Deleted in the pass that scaled the old color down, before that pass wrote Completed.
    assert.ok(await isGone(core.readNamespacedService({ name: "happy-preview", namespace })), "no preview Service once the old color is down");
    assert.equal(await replicasOf("happy-blue"), 0, "scaled to zero, not deleted");
    assert.equal(await imageOf("happy-green"), "ai-assistant:v2");
    assert.ok(sampler.samples > 10, `sampled the stable Service's endpoints ${String(sampler.samples)} times`);
    assert.ok(sampler.fewestReady >= 3, `the stable Service always had 3 ready endpoints (fewest seen: ${String(sampler.fewestReady)})`);
    assert.equal(completed.status?.selector, "app.kubernetes.io/name=ai-assistant,app.kubernetes.io/instance=happy,aiassistant.dev/color=green");
    assert.equal((await kc.makeApiClient(k8s.AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ name: "happy", namespace })).spec?.minReplicas, 3);
    const after = await ready("happy", 3);
    assert.equal(condition(after, "Promoted")?.status, "True");
    assert.equal(condition(after, "Promoted")?.observedGeneration, after.metadata.generation);

    const events = await core.listNamespacedEvent({ namespace, fieldSelector: "involvedObject.name=happy,involvedObject.kind=AIAssistant" });
    const reasons = new Set(events.items.map((e) => e.reason));
    for (const reason of ["RolloutStarted", "PreviewReady", "Promoted", "ScaledDown"]) assert.ok(reasons.has(reason), `an Event ${reason}`);
  });

  it("never rolls out on a scaling-only change", async function () {
    const before = await read("happy");
    await patchAIAssistant(kc, namespace, "happy", { spec: { autoscaling: { minReplicas: 4, maxReplicas: 6 } } });
    await ready("happy", 4);
    const after = await read("happy");
    assert.deepEqual(after.status?.lastRollout, before.status?.lastRollout);
    assert.equal(await replicasOf("happy-blue"), 0);
  });

  it("pauses without auto-promotion, shows the preview ready behind the preview Service, and promotes on the annotation", async function () {
    await create("manual", { replicas: 2, rollout: { autoPromotion: false, scaleDownDelaySeconds: 0 } });
    await ready("manual", 2);
    assert.ok(await isGone(core.readNamespacedService({ name: "manual-preview", namespace })), "no preview Service (and no ClusterIP) before a rollout");
    await setImage("manual", "ai-assistant:v2");
    const paused = await waitForAIAssistant(kc, namespace, "manual", (aia) => aia.status?.lastRollout?.phase === "Paused" && condition(aia, "PreviewReady")?.status === "True", {
      what: "manual to pause with the preview ready",
    });
    assert.equal(condition(paused, "Promoted")?.reason, "AwaitingPromotion");
    assert.equal(condition(paused, "Progressing")?.reason, "RolloutPaused");
    assert.equal(await selectedColor("manual"), "blue");
    assert.equal(await selectedColor("manual-preview"), "green");
    assert.equal(await imageOf("manual-green"), "ai-assistant:v2");
    const slices = await kc.makeApiClient(k8s.DiscoveryV1Api).listNamespacedEndpointSlice({ namespace, labelSelector: "kubernetes.io/service-name=manual-preview" });
    assert.equal(slices.items.flatMap((slice) => slice.endpoints).length, 2, "the preview Service created with the rollout lists the new pods");

    await requestRollout(kc, namespace, "manual", "promote");
    const promoted = await waitForAIAssistant(kc, namespace, "manual", (aia) => aia.status?.activeColor === "green" && aia.status.lastRollout?.phase === "Completed", {
      what: "manual to be promoted",
    });
    assert.equal(promoted.metadata.annotations?.["aiassistant.dev/promote"], undefined, "the operator removed the annotation");
    assert.equal(await selectedColor("manual"), "green");
  });

  it("resumes a paused rollout after the operator is killed and restarted, from the status alone", async function () {
    await setImage("manual", "ai-assistant:v3");
    const paused = await waitForRolloutPhase(kc, namespace, "manual", "Paused");
    await operator.kill();
    // Promotion needs the preview Service's EndpointSlices (ready pods are checked on every pass): it
    // happens below only if the new operator brings the Service back, from the status alone.
    await core.deleteNamespacedService({ name: "manual-preview", namespace });
    operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace }).start();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const resumed = await read("manual");
    assert.deepEqual(resumed.status?.lastRollout, paused.status?.lastRollout, "the new operator picked up the same rollout, not a new one");
    await requestRollout(kc, namespace, "manual", "promote");
    const promoted = await waitForAIAssistant(kc, namespace, "manual", (aia) => aia.status?.activeColor === "blue" && aia.status.lastRollout?.phase === "Completed", {
      what: "manual to be promoted by the new operator",
    });
    assert.equal(promoted.status?.lastRollout?.startedAt, paused.status?.lastRollout?.startedAt);
    assert.equal(await imageOf("manual-blue"), "ai-assistant:v3");
  });

  it("lets a new change supersede an unfinished rollout on the same preview color, with no third color", async function () {
    await setImage("manual", "ai-assistant:v4");
    const first = await waitForRolloutPhase(kc, namespace, "manual", "Paused");
    await setImage("manual", "ai-assistant:v5");
    const second = await waitForAIAssistant(
      kc,
      namespace,
      "manual",
      (aia) => aia.status?.lastRollout?.phase === "Paused" && aia.status.lastRollout.revision !== first.status?.lastRollout?.revision,
      { what: "the second rollout to pause" },
    );
    assert.equal(second.status?.lastRollout?.fromRevision, first.status?.lastRollout?.fromRevision);
    assert.equal(await imageOf("manual-green"), "ai-assistant:v5");
    assert.equal(await imageOf("manual-blue"), "ai-assistant:v3", "the active color is untouched");
    const deployments = await apps.listNamespacedDeployment({ namespace, labelSelector: "app.kubernetes.io/instance=manual" });
    assert.deepEqual(deployments.items.map((d) => d.metadata?.name).sort(), ["manual-blue", "manual-green"]);
  });

  it("aborts on the abort annotation: traffic stays, Degraded says why, and the preview is scaled down after abortScaleDownDelaySeconds", async function () {
    await patchAIAssistant(kc, namespace, "manual", { spec: { rollout: { abortScaleDownDelaySeconds: 2 } } });
    await waitForRolloutPhase(kc, namespace, "manual", "Paused");
    await requestRollout(kc, namespace, "manual", "abort");
    const aborted = await waitForRolloutPhase(kc, namespace, "manual", "Aborted");
    assert.equal(aborted.status?.lastRollout?.reason, "RolloutAborted");
    assert.equal(condition(aborted, "Degraded")?.reason, "RolloutAborted");
    assert.equal(condition(aborted, "Ready")?.status, "True", "the old color still serves");
    assert.equal(await selectedColor("manual"), "blue");
    await eventually("the aborted preview to be scaled down", async () => ((await replicasOf("manual-green")) === 0 ? true : undefined));
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: "involvedObject.name=manual,involvedObject.kind=AIAssistant,reason=RolloutAborted" });
    assert.equal(events.items[0]?.type, "Warning");
  });

  it("aborts when the new pods never become ready within progressDeadlineSeconds, keeping traffic on the old color", async function () {
    await create("stuck", { replicas: 2, rollout: { progressDeadlineSeconds: 10 } });
    await ready("stuck", 2);
    const sampler = await new EndpointSampler(kc, namespace, "stuck").start(2);
    // kwok leaves a pod annotated like this Running but never Ready: a failing readiness probe.
    await patchAIAssistant(kc, namespace, "stuck", { spec: { image: "ai-assistant:broken", podTemplate: { metadata: { annotations: { "kwok.aiassistant.dev/ready": "false" } } } } });
    const aborted = await waitForRolloutPhase(kc, namespace, "stuck", "Aborted");
    await sampler.stop();
    assert.equal(aborted.status?.lastRollout?.reason, "ProgressDeadlineExceeded");
    assert.equal(condition(aborted, "Degraded")?.reason, "ProgressDeadlineExceeded");
    assert.equal(await selectedColor("stuck"), "blue");
    assert.ok(sampler.fewestReady >= 2, `the stable Service kept its 2 ready endpoints (fewest: ${String(sampler.fewestReady)})`);

    await patchAIAssistant(kc, namespace, "stuck", { spec: { image: "ai-assistant:fixed", podTemplate: null } });
    const fixed = await waitForRolloutPhase(kc, namespace, "stuck", "Promoted");
    assert.equal(condition(fixed, "Degraded")?.status, "False", "the next spec change starts a fresh rollout");
  });

  it("rolls back at once within scaleDownDelaySeconds, and the previous spec clears the rollback", async function () {
    await create("back", { replicas: 2, rollout: { scaleDownDelaySeconds: 120 } });
    await ready("back", 2);
    await setImage("back", "ai-assistant:v2");
    await waitForRolloutPhase(kc, namespace, "back", "Promoted");
    assert.equal(await selectedColor("back"), "green");
    await requestRollout(kc, namespace, "back", "rollback");
    const rolledBack = await waitForRolloutPhase(kc, namespace, "back", "Aborted");
    assert.equal(rolledBack.status?.activeColor, "blue");
    assert.equal(await selectedColor("back"), "blue");
    assert.equal(condition(rolledBack, "Degraded")?.reason, "RolledBack");
    assert.equal(rolledBack.metadata.annotations?.["aiassistant.dev/rollback"], undefined);

    await setImage("back", "ai-assistant:v1");
    const settled = await waitForAIAssistant(kc, namespace, "back", (aia) => aia.metadata.generation === aia.status?.observedGeneration && condition(aia, "Degraded")?.status === "False", {
      what: "the previous spec to clear Degraded",
    });
    assert.equal(settled.status?.activeColor, "blue");
    assert.equal(condition(settled, "Promoted")?.status, "True");
  });

  it("completes a rollout while an optional object is refused, which shows as Degraded without making the assistant unready", async function () {
    // An annotation key the API server refuses on the Ingress: the CRD cannot tell.
    await create("refused", {
      ingress: { enabled: true, host: "chat.example.com", tls: { secretName: "chat-tls" }, allowUnauthenticated: true, annotations: { "not a key!": "x" } },
      rollout: { scaleDownDelaySeconds: 1 },
    });
    const before = await ready("refused", 1);
    assert.deepEqual([condition(before, "Degraded")?.status, condition(before, "Degraded")?.reason], ["True", "ApplyRejected"]);
    assert.match(condition(before, "Degraded")?.message ?? "", /Ingress/);
    await setImage("refused", "ai-assistant:v2");
    const done = await waitForRolloutPhase(kc, namespace, "refused", "Completed");
    assert.equal(done.status?.activeColor, "green");
    assert.equal(await selectedColor("refused"), "green");
    assert.equal(await replicasOf("refused-blue"), 0);
    const after = await ready("refused", 1);
    assert.equal(condition(after, "Degraded")?.reason, "ApplyRejected");
  });

  it("cuts over embedded storage: the old color scales to zero as the new one starts, and the rollout ends on one pod", async function () {
    await core.createPersistentVolume({
      body: { metadata: { name: `${namespace}-pv` }, spec: { capacity: { storage: "5Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: `/srv/${namespace}` } } },
    });
    await createAIAssistant(kc, namespace, "solo", { image: "ai-assistant:v1" });
    await ready("solo", 1);
    await setImage("solo", "ai-assistant:v2");
    const done = await waitForRolloutPhase(kc, namespace, "solo", "Completed");
    assert.equal(done.status?.lastRollout?.mode, "Cutover");
    assert.equal(done.status?.activeColor, "green");
    assert.equal(await selectedColor("solo"), "green");
    assert.equal(await replicasOf("solo-blue"), 0);
    await ready("solo", 1);
  });
});
