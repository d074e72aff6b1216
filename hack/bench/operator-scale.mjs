// Benchmark: N AIAssistants in 10 namespaces against a real control plane (etcd + kube-apiserver).
//
//   npm run build && node hack/bench/operator-scale.mjs [N=1000]
//
// Reports the time until every AIAssistant is reconciled (the api-tier readiness rule: the
// status's observedGeneration and its Ready condition's observedGeneration equal the object's
// generation; no kubelet runs here, so pods never start), the operator's requests to the API
// server per assistant (from the audit log: its writes are the requests carrying its field
// manager and the Events it records; its reads are its LISTs and WATCHes), its peak RSS
// (VmHWM), and the writes it sends during one idle resync.
//
// The operator runs under the memory limit its chart gives the container (resources.limits.memory),
// in a memory cgroup as a pod would, because Node sizes V8's heap by that limit: unconstrained on a
// big machine it lets garbage pile up far longer than it would in the cluster. Without a writable
// memory cgroup (not root, or no memory controller) it runs unconstrained and says so.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../../", import.meta.url));
const support = `${root}operator/dist/test/support/`;
const { startControlPlane, stopControlPlane } = await import(`${support}control-plane.js`);
const { freePort } = await import(`${support}net.js`);
const { installCRD, kubectl } = await import(`${support}crd.js`);
const { parseQuantity } = await import(`${root}operator/dist/src/reconcile/semantic.js`);
const total = Number(process.argv[2] ?? 1000);
const namespaces = Array.from({ length: 10 }, (_, i) => `bench-${i}`);
const resyncSeconds = 20;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function chartMemoryLimit() {
  const values = parse(readFileSync(`${root}charts/ai-assistant-operator/values.yaml`, "utf8"));
  const bytes = parseQuantity(String(values.resources.limits.memory));
  if (bytes === undefined) throw new Error(`the chart's resources.limits.memory is not a quantity: ${values.resources.limits.memory}`);
  return bytes;
}

/** A memory cgroup (v2, else v1) limited to `bytes`; undefined when none can be made here. */
function memoryCgroup(bytes) {
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const dir = v2 ? "/sys/fs/cgroup/aia-operator-bench" : "/sys/fs/cgroup/memory/aia-operator-bench";
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/${v2 ? "memory.max" : "memory.limit_in_bytes"}`, String(bytes));
    return { procs: `${dir}/cgroup.procs`, remove: () => rmdirSync(dir) };
  } catch {
    return undefined;
  }
}
const memoryLimit = chartMemoryLimit();
const cgroup = memoryCgroup(memoryLimit);

const plane = await startControlPlane({ full: false });
process.env.KUBECONFIG = plane.kubeconfig;
const auditLog = `${plane.dir}/audit.log`;
let operator;
try {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  await installCRD(kc);
  for (const ns of namespaces) await kubectl("create", "namespace", ns);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);

  const port = await freePort();
  const main = `${root}operator/dist/src/main.js`;
  // The shell joins the cgroup, then becomes the operator: the pid (and its VmHWM) is the operator's.
  operator = spawn(cgroup ? "sh" : process.execPath, cgroup ? ["-c", 'echo $$ > "$1" && exec "$2" "$3"', "sh", cgroup.procs, process.execPath, main] : [main], {
    env: { ...process.env, HTTP_HOST: "127.0.0.1", HTTP_PORT: String(port), LOG_LEVEL: "warn", RESYNC_SECONDS: String(resyncSeconds), LEADER_ELECTION_NAMESPACE: "default" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const peakRSS = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${operator.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await sleep(100);
  }

  const started = Date.now();
  const names = Array.from({ length: total }, (_, i) => ({ namespace: namespaces[i % namespaces.length], name: `aia-${i}` }));
  const createOne = ({ namespace, name }) =>
    custom.createNamespacedCustomObject({
      group: "aiassistant.dev", version: "v1alpha1", namespace, plural: "aiassistants",
      body: { apiVersion: "aiassistant.dev/v1alpha1", kind: "AIAssistant", metadata: { name }, spec: { systemPrompt: `bench ${name}` } },
    });
  const queue = [...names];
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await createOne(next);
  }));
  const createdAfter = (Date.now() - started) / 1000;

  let reconciled = 0;
  while (reconciled < total) {
    const list = await custom.listClusterCustomObject({ group: "aiassistant.dev", version: "v1alpha1", plural: "aiassistants" });
    reconciled = list.items.filter((a) => {
      const ready = a.status?.conditions?.find((c) => c.type === "Ready");
      return a.status?.observedGeneration === a.metadata.generation && ready?.observedGeneration === a.metadata.generation;
    }).length;
    if (reconciled < total) await sleep(250);
  }
  const reconciledAfter = (Date.now() - started) / 1000;
  const convergedAt = new Date();

  // Let the work queue drain the events our own writes caused, then watch one idle resync.
  await sleep(3000);
  const idleFrom = new Date();
  await sleep((resyncSeconds + 5) * 1000);

  const audit = readFileSync(auditLog, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const byOperator = (e) => e.requestURI.includes("fieldManager=aiassistant-operator") || e.objectRef?.resource === "events";
  const operatorWrites = audit.filter(byOperator);
  const untilConverged = operatorWrites.filter((e) => new Date(e.stageTimestamp) <= convergedAt);
  const idleWrites = operatorWrites.filter((e) => new Date(e.stageTimestamp) >= idleFrom);

  console.log(`assistants:                 ${total} in ${namespaces.length} namespaces`);
  console.log(`created in:                 ${createdAfter.toFixed(1)} s`);
  console.log(`all reconciled after:       ${reconciledAfter.toFixed(1)} s (target < 60 s)`);
  console.log(`operator writes / assistant: ${(untilConverged.length / total).toFixed(2)} (${untilConverged.length} writes)`);
  const limitNote = cgroup ? `under the chart's ${memoryLimit / 2 ** 20} MiB memory limit` : "no memory limit: no writable memory cgroup here";
  console.log(`operator peak RSS:          ${peakRSS().toFixed(0)} MiB (target < 250 MiB; ${limitNote})`);
  console.log(`writes in one idle resync:  ${idleWrites.length} (target 0; resync every ${resyncSeconds} s)`);
} finally {
  if (operator && operator.exitCode === null) {
    const exited = new Promise((resolve) => operator.once("exit", resolve));
    operator.kill("SIGTERM");
    await exited;
  }
  stopControlPlane(plane);
  cgroup?.remove();
}
