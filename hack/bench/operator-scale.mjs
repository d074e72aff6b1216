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
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";

const root = fileURLToPath(new URL("../../", import.meta.url));
const total = Number(process.argv[2] ?? 1000);
const namespaces = Array.from({ length: 10 }, (_, i) => `bench-${i}`);
const resyncSeconds = 20;

const sh = (file, args) => execFileSync(file, args, { cwd: root, encoding: "utf8" });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const env = Object.fromEntries(
  sh(`${root}hack/control-plane.sh`, ["up"])
    .split("\n")
    .map((line) => /^export (\w+)=(.*)$/.exec(line))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);
process.env.KUBECONFIG = env.KUBECONFIG;
const auditLog = `${env.AIA_CONTROL_PLANE_DIR}/audit.log`;
let operator;
try {
  const kubectl = sh(`${root}hack/binaries.sh`, ["path", "kubectl"]).trim();
  sh(kubectl, ["apply", "--server-side", "-f", `${root}crds/`]);
  for (const ns of namespaces) sh(kubectl, ["create", "namespace", ns]);

  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const extensions = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (;;) {
    const crd = await extensions.readCustomResourceDefinition({ name: "aiassistants.aiassistant.dev" });
    if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
    await sleep(100);
  }
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);

  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port: p } = server.address();
      server.close(() => resolve(p));
    });
  });
  operator = spawn(process.execPath, [`${root}operator/dist/src/main.js`], {
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
  console.log(`operator peak RSS:          ${peakRSS().toFixed(0)} MiB (target < 250 MiB)`);
  console.log(`writes in one idle resync:  ${idleWrites.length} (target 0; resync every ${resyncSeconds} s)`);
} finally {
  operator?.kill("SIGTERM");
  sh(`${root}hack/control-plane.sh`, ["down", env.AIA_CONTROL_PLANE_DIR]);
}
