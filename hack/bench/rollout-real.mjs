// Benchmark on a real node (containerd, kubelet, kube-proxy): what a user of the operator waits for,
// each figure beside the same run's baseline without the operator.
//
//   npm run build && node hack/bench/rollout-real.mjs [RUNS=3]
//
// It starts a real node of its own (hack/control-plane.sh up --real), runs inside its network
// namespace, and stops it at the end. Figures (medians over RUNS where repeated):
//   apply -> Ready      `kubectl apply` of config/samples/aiassistant.yaml into a fresh namespace until
//                       the AIAssistant is Ready (warm: images on the node, the operator running);
//                       baseline: the operator's own Deployment, Service, ConfigMaps and volume
//                       applied by hand until the Deployment is Available.
//   blue-green switch   4 clients chatting through the stable Service's ClusterIP while the Postgres
//                       sample rolls out a new revision: failed requests and the request p99 during
//                       the rollout; baseline: the same load straight to a pod's IP.
//   cutover gap         2 clients through the ClusterIP while the embedded sample rolls out (the new
//                       pod starts beside the old one, which hands the volume over): the longest
//                       stretch with no answer;
//                       baseline: the same pod template as a plain Deployment (strategy Recreate)
//                       behind a Service, restarted with `kubectl rollout restart`.
//   footprint           RSS of the node's daemons and containerd's shims, and the pods' memory
//                       (metrics-server's working set), with the operator and both samples running.
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

if (!process.env.AIA_CONTROL_PLANE_DIR) {
  const { inRealNode } = await import(`${root}hack/test/in-real-node.mjs`);
  process.exit(inRealNode([process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)]).status ?? 1);
}

const k8s = await import("@kubernetes/client-node");
const support = `${root}operator/dist/test/support/`;
const { chartDir, chartNamespace, releaseName } = await import(`${support}chart.js`);
const { kubectl } = await import(`${support}crd.js`);
const { eventually, uniqueName } = await import(`${support}kube.js`);
const { helm } = await import(`${support}tools.js`);
const { ChatLoad, durationsWithin, quantile } = await import(`${support}load.js`);
const { applySample, describeLoad, patchSpec, restrictedNamespace, rolloutEnded, serviceURL, waitUntilReady } = await import(`${support}real-cluster.js`);
const { readAIAssistant, waitForAIAssistant } = await import(`${support}aiassistant.js`);

const runs = Number(process.argv[2] ?? 3);
const question = "My VPN connection drops every few minutes, what should I do?";
const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const median = (values) => quantile(values, 0.5);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const millis = (ms) => `${ms.toFixed(0)} ms`;

/** The owned objects of a Ready AIAssistant, re-made by hand under `prefix`: what a user without the operator applies. */
async function handMade(namespace, name, prefix, strategy) {
  const deployments = await apps.listNamespacedDeployment({ namespace, labelSelector: `app.kubernetes.io/instance=${name}` });
  const source = deployments.items.find((deployment) => (deployment.spec?.replicas ?? 0) > 0);
  const template = structuredClone(source.spec.template);
  const labels = { app: prefix };
  template.metadata = { labels };
  const volumes = template.spec.volumes ?? [];
  const objects = [];
  for (const volume of volumes) {
    if (volume.configMap) {
      const configMap = await core.readNamespacedConfigMap({ name: volume.configMap.name, namespace });
      objects.push({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${prefix}-${volume.name}` }, data: configMap.data });
      volume.configMap.name = `${prefix}-${volume.name}`;
    } else if (volume.persistentVolumeClaim) {
      const claim = await core.readNamespacedPersistentVolumeClaim({ name: volume.persistentVolumeClaim.claimName, namespace });
      objects.push({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: `${prefix}-data` }, spec: { accessModes: claim.spec.accessModes, resources: claim.spec.resources } });
      volume.persistentVolumeClaim.claimName = `${prefix}-data`;
    }
  }
  template.spec.serviceAccountName = "default";
  objects.push(
    { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: prefix }, spec: { replicas: source.spec.replicas, selector: { matchLabels: labels }, strategy, template } },
    { apiVersion: "v1", kind: "Service", metadata: { name: prefix }, spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] } },
  );
  return objects.map((object) => JSON.stringify(object)).join("\n");
}

function applyText(namespace, text) {
  const result = spawnSync("kubectl", ["apply", "-n", namespace, "-f", "-"], { input: text, encoding: "utf8" });
  if (result.status !== 0) throw new Error(result.stderr);
}

async function applyToReady() {
  const operator = [];
  const baseline = [];
  for (let run = 0; run < runs; run++) {
    const namespace = await restrictedNamespace(kc, "bench-apply");
    let started = performance.now();
    await applySample(namespace, "aiassistant.yaml");
    await waitUntilReady(kc, namespace, "demo");
    operator.push(performance.now() - started);
    const manifest = await handMade(namespace, "demo", "plain", { type: "Recreate" });
    const fresh = await restrictedNamespace(kc, "bench-plain");
    started = performance.now();
    applyText(fresh, manifest);
    await eventually("the plain Deployment to be Available", async () => {
      const deployment = await apps.readNamespacedDeployment({ name: "plain", namespace: fresh });
      return deployment.status?.availableReplicas === deployment.spec?.replicas ? true : undefined;
    }, { timeoutMs: 180_000 });
    baseline.push(performance.now() - started);
    await core.deleteNamespace({ name: namespace });
    await core.deleteNamespace({ name: fresh });
  }
  return { operator: median(operator), baseline: median(baseline), all: { operator, baseline } };
}

/** Load through `url` while `act` runs; the requests' outcomes and the window act took, on the load's clock. */
async function loadDuring(url, clients, act) {
  const load = new ChatLoad(`${url}/api/v1/chat`, { clients, message: question }).start();
  await eventually("the load to be answered", () => (load.count > 10 ? true : undefined));
  const from = load.elapsed;
  await act();
  const to = load.elapsed;
  const report = await load.stop();
  return { report, during: durationsWithin(report, from, to), window: to - from };
}

async function blueGreen() {
  const namespace = await restrictedNamespace(kc, "bench-bluegreen");
  const name = "helpdesk";
  await applySample(namespace, "aiassistant-postgres.yaml");
  await patchSpec(namespace, name, { rollout: { scaleDownDelaySeconds: 5 } });
  await waitUntilReady(kc, namespace, name, 300_000);
  const results = [];
  for (let run = 0; run < runs; run++) {
    const before = await readAIAssistant(kc, namespace, name);
    const pods = await core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${name},aiassistant.dev/color=${before.status.activeColor}` });
    const podIP = pods.items.find((pod) => pod.status?.podIP)?.status.podIP;
    const direct = await loadDuring(`http://${podIP}:8080`, 4, () => sleep(15_000));
    const switched = await loadDuring(await serviceURL(kc, namespace, name), 4, async () => {
      await patchSpec(namespace, name, { env: [{ name: "ROLLOUT_MARK", value: `bench-${run}` }] });
      await waitForAIAssistant(kc, namespace, name, rolloutEnded("Completed", before.status.stableRevision), { timeoutMs: 300_000 });
    });
    results.push({ direct, switched });
  }
  await core.deleteNamespace({ name: namespace });
  return results;
}

async function cutover() {
  const namespace = await restrictedNamespace(kc, "bench-cutover");
  await applySample(namespace, "aiassistant.yaml");
  await waitUntilReady(kc, namespace, "demo");
  applyText(namespace, await handMade(namespace, "demo", "plain", { type: "Recreate" }));
  await eventually("the plain Deployment to be Available", async () => {
    const deployment = await apps.readNamespacedDeployment({ name: "plain", namespace });
    return deployment.status?.availableReplicas === 1 ? true : undefined;
  }, { timeoutMs: 180_000 });
  const operator = [];
  const baseline = [];
  for (let run = 0; run < runs; run++) {
    const before = await readAIAssistant(kc, namespace, "demo");
    const viaOperator = await loadDuring(await serviceURL(kc, namespace, "demo"), 2, async () => {
      await patchSpec(namespace, "demo", { env: [{ name: "ROLLOUT_MARK", value: `bench-${run}` }] });
      await waitForAIAssistant(kc, namespace, "demo", rolloutEnded("Completed", before.status.stableRevision), { timeoutMs: 300_000 });
      await sleep(2000);
    });
    operator.push(viaOperator.report);
    const plain = await loadDuring(await serviceURL(kc, namespace, "plain"), 2, async () => {
      const generation = (await apps.readNamespacedDeployment({ name: "plain", namespace })).metadata.generation;
      await kubectl("rollout", "restart", "deployment/plain", "-n", namespace);
      await eventually("the plain Deployment to roll", async () => {
        const deployment = await apps.readNamespacedDeployment({ name: "plain", namespace });
        const done = deployment.status?.observedGeneration > generation && deployment.status?.updatedReplicas === 1 && deployment.status?.availableReplicas === 1;
        return done ? true : undefined;
      }, { timeoutMs: 180_000 });
      await sleep(2000);
    });
    baseline.push(plain.report);
  }
  await core.deleteNamespace({ name: namespace });
  return { operator, baseline };
}

/** RSS in MiB of a process, from /proc. */
function rssMiB(pid) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : 0;
}

/** The node's daemons (from its pids file) and containerd's shims, with their RSS. */
function footprint() {
  const daemons = readFileSync(`${process.env.AIA_CONTROL_PLANE_DIR}/pids`, "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([name]) => name !== "holder")
    .map(([name, pid]) => [name, rssMiB(pid)]);
  const shims = readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "containerd-shim";
      } catch {
        return false;
      }
    })
    .map(rssMiB);
  return { daemons, shims };
}

const failures = (report) => report.failures.length;
const gap = (report) => report.longestGap;

await helm("upgrade", "--install", releaseName, chartDir, "--namespace", chartNamespace, "--create-namespace", "--wait", "--timeout", "3m");
// A first AIAssistant warms the node (page cache, the operator's informers) before anything is timed.
const warmup = await restrictedNamespace(kc, uniqueName("bench-warmup").slice(0, 20));
await applySample(warmup, "aiassistant.yaml");
await waitUntilReady(kc, warmup, "demo");
await core.deleteNamespace({ name: warmup });

const apply = await applyToReady();
// Both samples running beside the operator, for the footprint.
const resident = await restrictedNamespace(kc, "bench-footprint");
await applySample(resident, "aiassistant.yaml");
await waitUntilReady(kc, resident, "demo");
const residentPostgres = await restrictedNamespace(kc, "bench-footprint-pg");
await applySample(residentPostgres, "aiassistant-postgres.yaml");
await waitUntilReady(kc, residentPostgres, "helpdesk", 300_000);
await sleep(30_000);
const node = footprint();
const pods = await kubectl("top", "pods", "-A", "--no-headers");
await core.deleteNamespace({ name: resident });
await core.deleteNamespace({ name: residentPostgres });
const switches = await blueGreen();
const cutovers = await cutover();

const switchP99 = median(switches.map((run) => quantile(run.switched.during, 0.99)));
const directP99 = median(switches.map((run) => quantile(run.direct.during, 0.99)));
console.log(`\nreal node, ${runs} runs each (medians)`);
console.log(`apply -> Ready (warm)        operator ${seconds(apply.operator)}   baseline (its objects applied by hand) ${seconds(apply.baseline)}   [${apply.all.operator.map(seconds).join(", ")}] vs [${apply.all.baseline.map(seconds).join(", ")}]`);
console.log(
  `blue-green switch            failed requests ${switches.map((run) => failures(run.switched.report)).join(", ")} of ${switches.map((run) => run.switched.report.samples.length).join(", ")}; p99 during the rollout ${millis(switchP99)}   baseline (straight to a pod) p99 ${millis(directP99)}; rollout ${seconds(median(switches.map((run) => run.switched.window)))}`,
);
console.log(
  `cutover gap                  operator ${seconds(median(cutovers.operator.map(gap)))} [${cutovers.operator.map(gap).map(seconds).join(", ")}]   baseline (plain Deployment, Recreate, rollout restart) ${seconds(median(cutovers.baseline.map(gap)))} [${cutovers.baseline.map(gap).map(seconds).join(", ")}]`,
);
const outcomes = (reports) => reports.map((report) => describeLoad(report).replace(/; p50.*$/, "")).join(" | ");
console.log(`cutover requests             operator ${outcomes(cutovers.operator)}   baseline ${outcomes(cutovers.baseline)}`);
console.log(`footprint (MiB RSS)          ${node.daemons.map(([name, mib]) => `${name} ${mib.toFixed(0)}`).join(", ")}; ${node.shims.length} shims ${node.shims.reduce((a, b) => a + b, 0).toFixed(0)} in all`);
console.log(`pods (working set)\n${pods.trimEnd()}`);
