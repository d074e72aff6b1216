// Benchmark: blue-green rollouts of a 3-replica assistant on a full control plane (kube-apiserver,
// controller-manager, scheduler, kwok nodes).
//
//   npm run build && node hack/bench/rollout.mjs [ROLLOUTS=20]
//
// For each rollout (an image change) it reports, from watch events seen by this script:
//   switch latency: the preview Deployment becoming Available at full count -> the stable
//                   Service's selector switching to it (the operator's promotion path, including
//                   the wait for the preview Service's EndpointSlices to list the pods ready);
//   total:          the spec change -> the rollout Completed (old color scaled to 0; the
//                   scale-down delay is 0 here).
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import * as k8s from "@kubernetes/client-node";

const root = fileURLToPath(new URL("../../", import.meta.url));
const support = `${root}operator/dist/test/support/`;
const { startControlPlane, stopControlPlane } = await import(`${support}control-plane.js`);
const { installCRD } = await import(`${support}crd.js`);
const { eventually } = await import(`${support}kube.js`);
const { OperatorProcess } = await import(`${support}operator-process.js`);
const rollouts = Number(process.argv[2] ?? 20);
const namespace = "bench-rollout";
const name = "bench";
const replicas = 3;

const plane = await startControlPlane({ full: true });
process.env.KUBECONFIG = plane.kubeconfig;
let operator;
const watches = [];
try {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  await installCRD(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: "pg" }, stringData: { url: "postgres://assistant@pg:5432/assistant" } } });
  operator = await new OperatorProcess({ WATCH_NAMESPACES: namespace, LOG_LEVEL: "warn" }).start();

  const aiaPath = { group: "aiassistant.dev", version: "v1alpha1", plural: "aiassistants", namespace };
  await custom.createNamespacedCustomObject({
    ...aiaPath,
    body: {
      apiVersion: "aiassistant.dev/v1alpha1",
      kind: "AIAssistant",
      metadata: { name },
      spec: { image: "ai-assistant:bench-0", replicas, storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } }, rollout: { scaleDownDelaySeconds: 0 } },
    },
  });
  const read = () => custom.getNamespacedCustomObject({ ...aiaPath, name });
  const readyCondition = (aia) => aia.status?.conditions?.find((c) => c.type === "Ready");
  await eventually("the first revision to be Ready", async () => {
    const aia = await read();
    return readyCondition(aia)?.status === "True" && aia.status.readyReplicas === replicas ? true : undefined;
  }, { timeoutMs: 120_000 });

  // Timestamps of what this script sees, from watches (not polls), per rollout.
  let current;
  const watch = new k8s.Watch(kc);
  const fullyAvailable = (d) =>
    (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    d.spec?.replicas === replicas &&
    d.status?.updatedReplicas === replicas &&
    d.status?.availableReplicas === replicas &&
    d.status?.replicas === replicas;
  watches.push(
    await watch.watch(`/apis/apps/v1/namespaces/${namespace}/deployments`, {}, (_, d) => {
      if (!current || current.available || d.metadata?.name !== `${name}-${current.preview}`) return;
      if (d.metadata?.annotations?.["aiassistant.dev/revision"] !== current.from && fullyAvailable(d)) current.available = performance.now();
    }, () => {}),
    await watch.watch(`/api/v1/namespaces/${namespace}/services`, {}, (_, s) => {
      if (current && !current.switched && s.metadata?.name === name && s.spec?.selector?.["aiassistant.dev/color"] === current.preview) current.switched = performance.now();
    }, () => {}),
    await watch.watch(`/apis/aiassistant.dev/v1alpha1/namespaces/${namespace}/aiassistants`, {}, (_, aia) => {
      if (current && !current.completed && aia.status?.lastRollout?.phase === "Completed" && aia.status.lastRollout.revision !== current.from) current.completed = performance.now();
    }, () => {}),
  );

  const results = [];
  for (let i = 1; i <= rollouts; i++) {
    const before = await read();
    current = { preview: before.status.activeColor === "blue" ? "green" : "blue", from: before.status.stableRevision, started: performance.now() };
    await custom.patchNamespacedCustomObject(
      { ...aiaPath, name, body: { spec: { image: `ai-assistant:bench-${i}` } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const done = await eventually(`rollout ${i} to complete`, () => (current.completed && current.switched && current.available ? current : undefined), { timeoutMs: 120_000, intervalMs: 20 });
    results.push({ switchMs: done.switched - done.available, totalMs: done.completed - done.started });
    console.log(`rollout ${String(i).padStart(2)}: available -> switch ${(done.switched - done.available).toFixed(0).padStart(5)} ms, total ${(done.completed - done.started).toFixed(0).padStart(6)} ms`);
  }

  const stats = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return { median: (sorted[Math.floor((sorted.length - 1) / 2)] + sorted[Math.ceil((sorted.length - 1) / 2)]) / 2, p90: at(0.9), max: sorted.at(-1) };
  };
  const fmt = ({ median, p90, max }) => `median ${median.toFixed(0)} ms, p90 ${p90.toFixed(0)} ms, max ${max.toFixed(0)} ms`;
  const switching = stats(results.map((r) => r.switchMs));
  console.log(`\n${rollouts} rollouts of a ${replicas}-replica assistant on kwok nodes`);
  console.log(`available -> Service switch: ${fmt(switching)}  (target: median < 1000 ms: ${switching.median < 1000 ? "met" : "NOT met"})`);
  console.log(`spec change -> Completed:    ${fmt(stats(results.map((r) => r.totalMs)))}`);
} finally {
  for (const w of watches) w.abort();
  await operator?.stop();
  await stopControlPlane(plane);
}
