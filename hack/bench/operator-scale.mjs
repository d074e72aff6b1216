// Benchmark: N AIAssistants in 10 namespaces against a real control plane (etcd + kube-apiserver),
// with the operator at the chart's settings (memory limit, workers, resync period).
//
//   npm run build && node hack/bench/operator-scale.mjs [N=1000] [N…]
//
// Several Ns run back to back, each on a control plane of its own, and end with how the time per
// assistant grew. For each N it reports:
// - the time until every AIAssistant is reconciled, from the first create (the api-tier readiness
//   rule: the status's observedGeneration and its Ready condition's observedGeneration equal the
//   object's generation; no kubelet runs here, so pods never start), tracked with a watch;
// - the operator's writes per assistant, from the audit log: every write to the bench's
//   namespaces but the bench's own creates;
// - CPU (cores, averaged over the phase) and peak RSS of the operator, kube-apiserver and etcd;
// - 60 s idle after everything settled: CPU of each, and the operator's writes;
// - the operator's live heap (after a full collection) at N, which the memory budget is made of;
// - a restart of the operator: until it has reconciled every assistant again, its time, CPU and
//   writes (0 expected: the cluster already holds what it would apply);
// - where the time goes: the operator's reconciles per assistant and their mean duration, and the
//   API server's mean latency for the requests the operator makes most.
//
// The operator is the image's: the one-file bundle (npm run bundle -w operator), which the bench
// builds first, so its memory is that of the code the pod loads.
//
// The operator runs under the memory limit its chart gives the container (resources.limits.memory),
// in a memory cgroup as a pod would, because Node sizes V8's heap by that limit: unconstrained on a
// big machine it lets garbage pile up far longer than it would in the cluster. Without a writable
// memory cgroup (not root, or no memory controller) it runs unconstrained and says so.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { Registry } from "prom-client";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dist = `${root}operator/dist/`;
const { startControlPlane, stopControlPlane } = await import(`${dist}test/support/control-plane.js`);
const { freePort } = await import(`${dist}test/support/net.js`);
const { installCRD, kubectl } = await import(`${dist}test/support/crd.js`);
const { parseQuantity } = await import(`${dist}src/reconcile/semantic.js`);
const { KeepAliveKubeConfig } = await import(`${dist}src/controller/kubeconfig.js`);
const { Informer } = await import(`${dist}src/runtime/informer.js`);
const { aiAssistantKind, listPath } = await import(`${dist}src/controller/watched-kinds.js`);

execFileSync("npm", ["run", "--silent", "bundle", "--workspace", "operator"], { cwd: root, stdio: "inherit" });
const operatorMain = `${dist}bundle/operator.mjs`;
const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1000];
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`usage: operator-scale.mjs [N…] (positive integers), got ${process.argv.slice(2).join(" ")}`);
const namespaces = Array.from({ length: 10 }, (_, i) => `bench-${i}`);
const idleSeconds = 60;
const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes) => bytes / 2 ** 20;

/** The chart's defaults the operator runs with: its memory limit, workers and resync period. */
function chartSettings() {
  const values = parse(readFileSync(`${root}charts/ai-assistant-operator/values.yaml`, "utf8"));
  const memoryLimit = parseQuantity(String(values.resources.limits.memory));
  if (memoryLimit === undefined) throw new Error(`the chart's resources.limits.memory is not a quantity: ${values.resources.limits.memory}`);
  return { memoryLimit, workers: values.operator.workers, resyncSeconds: values.operator.resyncSeconds };
}
const chart = chartSettings();

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

/** User plus system CPU seconds a process has used so far. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Peak resident memory (VmHWM) of a process, in MiB. */
function peakRSS(pid) {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
}

/** The sum of a metric's samples in a Prometheus text exposition, those whose labels include `labels`. */
function sumOf(text, name, labels = "") {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels !== "" && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/**
 * From the API server's own metrics: the mean latency of the operator's commonest requests (ms),
 * and the time its ClusterIP allocator spent allocating (s), which it does one Service at a time.
 */
async function apiServerLatencies() {
  const text = await kubectl("get", "--raw", "/metrics");
  const allocations = sumOf(text, "kube_apiserver_clusterip_allocator_allocation_duration_seconds_count");
  const allocating = sumOf(text, "kube_apiserver_clusterip_allocator_allocation_duration_seconds_sum");
  const mean = (labels) => (1000 * sumOf(text, "apiserver_request_duration_seconds_sum", labels)) / sumOf(text, "apiserver_request_duration_seconds_count", labels);
  const requests = [
    ["apply Service", 'resource="services",scope="resource",subresource="",verb="APPLY"'],
    ["apply Deployment", 'resource="deployments",scope="resource",subresource="",verb="APPLY"'],
    ["apply ConfigMap", 'resource="configmaps",scope="resource",subresource="",verb="APPLY"'],
    ["patch status", 'resource="aiassistants",scope="resource",subresource="status",verb="PATCH"'],
    ["create Event", 'resource="events",scope="resource",subresource="",verb="POST"'],
  ];
  return { latencies: requests.map(([what, labels]) => `${what} ${mean(labels).toFixed(0)} ms`).join(", "), allocations, allocating };
}

/** CPU used by each process between two snapshots, in cores. */
function coresBetween(before, after) {
  const seconds = (after.at - before.at) / 1000;
  return Object.fromEntries(Object.keys(before.cpu).map((name) => [name, (after.cpu[name] - before.cpu[name]) / seconds]));
}

/** The operator as its chart runs it, in the memory cgroup when there is one. */
class OperatorUnderTest {
  constructor(kubeconfig, cgroup, heapFile) {
    this.kubeconfig = kubeconfig;
    this.cgroup = cgroup;
    this.heapFile = heapFile;
  }

  async start() {
    this.port = await freePort();
    const node = [process.execPath, "--expose-gc", `--import=${root}hack/bench/heap-probe.mjs`, operatorMain];
    // The shell joins the cgroup, then becomes the operator: the pid (and its VmHWM) is the operator's.
    const [command, ...args] = this.cgroup ? ["sh", "-c", 'echo $$ > "$1" && shift && exec "$@"', "sh", this.cgroup.procs, ...node] : node;
    this.process = spawn(command, args, {
      env: {
        ...process.env,
        KUBECONFIG: this.kubeconfig,
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: String(this.port),
        LOG_LEVEL: "warn",
        WORKERS: String(chart.workers),
        RESYNC_SECONDS: String(chart.resyncSeconds),
        LEADER_ELECTION_NAMESPACE: "default",
        AIA_HEAP_PROBE_FILE: this.heapFile,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    while (!(await fetch(`http://127.0.0.1:${this.port}/readyz`).then((r) => r.ok, () => false))) await sleep(100);
    return this;
  }

  get pid() {
    return this.process.pid;
  }

  /** Sums a metric's samples from /metrics (asked again after a reset: a kept-alive connection may be closed as it is reused). */
  async metric(name) {
    for (let attempt = 1; ; attempt++) {
      try {
        return sumOf(await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text(), name);
      } catch (error) {
        if (attempt === 3 || this.process.exitCode !== null) throw error;
      }
    }
  }

  /** Resolves once the operator has reconciled at least `count` times and its queue is empty and idle. */
  async drained(count) {
    for (;;) {
      const [reconciles, depth, active] = await Promise.all([
        this.metric("controller_runtime_reconcile_total"),
        this.metric("workqueue_depth"),
        this.metric("controller_runtime_active_workers"),
      ]);
      if (reconciles >= count && depth === 0 && active === 0) return;
      await sleep(250);
    }
  }

  /** The live heap: what survives a full collection (heap-probe.mjs). */
  async liveHeap() {
    rmSync(this.heapFile, { force: true });
    this.process.kill("SIGUSR2");
    for (let i = 0; i < 600 && !existsSync(this.heapFile); i++) await sleep(100);
    await sleep(100);
    return Number(readFileSync(this.heapFile, "utf8"));
  }

  async stop() {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    this.process.kill("SIGTERM");
    await exited;
  }
}

/** Counts the AIAssistants whose status is current, from a watch; resolves `all` when every one of `total` is. */
function readinessTracker(kc, total) {
  const reconciled = new Set();
  let resolveAll;
  const all = new Promise((resolve) => (resolveAll = resolve));
  const informer = new Informer({
    kc,
    name: "bench",
    listPath: listPath(aiAssistantKind, undefined),
    logger: pino({ level: "warn" }),
    registry: new Registry(),
  });
  const look = (aia) => {
    const key = `${aia.metadata.namespace}/${aia.metadata.name}`;
    const ready = aia.status?.conditions?.find((c) => c.type === "Ready");
    if (aia.status?.observedGeneration === aia.metadata.generation && ready?.observedGeneration === aia.metadata.generation) reconciled.add(key);
    else reconciled.delete(key);
    if (reconciled.size >= total) resolveAll();
  };
  informer.onAdd(look);
  informer.onUpdate((_, aia) => look(aia));
  return { informer, all };
}

function cpuSnapshot(pids) {
  return { at: Date.now(), cpu: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)])) };
}

async function run(total) {
  const cgroup = memoryCgroup(chart.memoryLimit);
  const plane = await startControlPlane({ full: false });
  process.env.KUBECONFIG = plane.kubeconfig;
  const heapFile = `${plane.dir}/operator-heap`;
  let operator;
  let tracker;
  try {
    const kc = new KeepAliveKubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    await installCRD(kc);
    for (const ns of namespaces) await kubectl("create", "namespace", ns);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const components = Object.fromEntries(
      readFileSync(`${plane.dir}/pids`, "utf8").split("\n").filter(Boolean).map((line) => line.split(" ")).map(([name, pid]) => [name, Number(pid)]),
    );
    operator = await new OperatorUnderTest(plane.kubeconfig, cgroup, heapFile).start();
    const pids = () => ({ operator: operator.pid, "kube-apiserver": components["kube-apiserver"], etcd: components.etcd });
    tracker = readinessTracker(kc, total);
    await tracker.informer.start();

    const load = loadavg();
    const before = cpuSnapshot(pids());
    const names = Array.from({ length: total }, (_, i) => ({ namespace: namespaces[i % namespaces.length], name: `aia-${i}` }));
    const queue = [...names];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          await custom.createNamespacedCustomObject({
            group: "aiassistant.dev", version: "v1alpha1", namespace: next.namespace, plural: "aiassistants",
            body: { apiVersion: "aiassistant.dev/v1alpha1", kind: "AIAssistant", metadata: { name: next.name }, spec: { systemPrompt: `bench ${next.name}` } },
          });
        }
      }),
    );
    const createdAfter = (Date.now() - before.at) / 1000;
    await tracker.all;
    const converged = cpuSnapshot(pids());
    const convergedAt = new Date(converged.at);
    const reconciledAfter = (converged.at - before.at) / 1000;
    const [reconciles, reconcileSeconds, { latencies, allocations, allocating }] = await Promise.all([
      operator.metric("controller_runtime_reconcile_total"),
      operator.metric("controller_runtime_reconcile_time_seconds_sum"),
      apiServerLatencies(),
    ]);

    // Idle: once the events of the operator's own writes are worked off, nothing should happen.
    await operator.drained(total);
    await sleep(3000);
    const idleFrom = cpuSnapshot(pids());
    await sleep(idleSeconds * 1000);
    const idleTo = cpuSnapshot(pids());
    const liveHeap = await operator.liveHeap();
    const operatorPeak = peakRSS(operator.pid);

    // Restart: a new operator fills its caches and reconciles every assistant once more.
    const restartBefore = cpuSnapshot(pids());
    await operator.stop();
    const restartFrom = new Date();
    operator = await new OperatorUnderTest(plane.kubeconfig, cgroup, heapFile).start();
    // The new process's CPU counts from its start.
    restartBefore.cpu.operator = 0;
    await operator.drained(total);
    const restartAfter = cpuSnapshot(pids());
    const restartSeconds = (restartAfter.at - restartFrom.getTime()) / 1000;
    await sleep(3000);
    const restartTo = new Date();
    const restartPeak = peakRSS(operator.pid);

    const audit = readFileSync(`${plane.dir}/audit.log`, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const bench = (e) => e.verb === "create" && e.objectRef?.resource === "aiassistants" && e.objectRef.subresource === undefined;
    const operatorWrites = audit.filter((e) => namespaces.includes(e.objectRef?.namespace) && !bench(e)).map((e) => new Date(e.stageTimestamp));
    const writesBetween = (from, to) => operatorWrites.filter((at) => at >= from && at <= to).length;
    const untilConverged = writesBetween(new Date(0), convergedAt);

    const busy = coresBetween(before, converged);
    const idle = coresBetween(idleFrom, idleTo);
    const restartCores = coresBetween(restartBefore, restartAfter);
    const peaks = { operator: operatorPeak, "kube-apiserver": peakRSS(components["kube-apiserver"]), etcd: peakRSS(components.etcd) };
    const limitNote = cgroup ? `the chart's limit: ${mib(chart.memoryLimit)} MiB` : "no memory limit: no writable memory cgroup here";
    const result = {
      total,
      reconciledAfter,
      lines: [
        `assistants:                  ${total} in ${namespaces.length} namespaces (load average at the start ${load.map((l) => l.toFixed(2)).join(" ")})`,
        `operator settings:           the chart's: ${chart.workers} workers, resync every ${chart.resyncSeconds} s, ${limitNote}`,
        `created in:                  ${createdAfter.toFixed(1)} s`,
        `all reconciled after:        ${reconciledAfter.toFixed(1)} s (${((reconciledAfter * 1000) / total).toFixed(1)} ms per assistant)`,
        `operator writes / assistant: ${(untilConverged / total).toFixed(2)} (${untilConverged} writes)`,
        `reconciles / assistant:      ${(reconciles / total).toFixed(2)}, ${((1000 * reconcileSeconds) / reconciles).toFixed(0)} ms each on average`,
        `API server mean latency:     ${latencies}`,
        `ClusterIP allocations:       ${allocations}, ${((1000 * allocating) / allocations).toFixed(0)} ms each; the allocator (one at a time) was busy ${((100 * allocating) / reconciledAfter).toFixed(0)}% of the run`,
        `                             cores while reconciling   idle ${idleSeconds} s   peak RSS`,
        ...Object.keys(peaks).map(
          (name) => `  ${name.padEnd(27)}${busy[name].toFixed(2).padStart(10)}${idle[name].toFixed(3).padStart(19)}${peaks[name].toFixed(0).padStart(10)} MiB`,
        ),
        `idle writes:                 ${writesBetween(new Date(idleFrom.at), new Date(idleTo.at))} in ${idleSeconds} s`,
        `operator live heap:          ${mib(liveHeap).toFixed(1)} MiB after a full GC (${(mib(liveHeap) / (total / 1000)).toFixed(1)} MiB per 1,000 assistants, base included)`,
        `restart:                     every assistant reconciled again ${restartSeconds.toFixed(1)} s after the stop; ${writesBetween(restartFrom, restartTo)} writes; operator ${restartCores.operator.toFixed(2)} cores, kube-apiserver ${restartCores["kube-apiserver"].toFixed(2)}; peak RSS ${restartPeak.toFixed(0)} MiB`,
      ],
    };
    console.log(result.lines.join("\n"));
    return result;
  } finally {
    tracker?.informer.stop();
    await operator?.stop();
    stopControlPlane(plane);
    cgroup?.remove();
  }
}

const results = [];
for (const total of sizes) {
  if (results.length > 0) console.log("");
  results.push(await run(total));
}
if (results.length > 1) {
  const [first] = results;
  console.log("");
  for (const result of results.slice(1)) {
    const ratio = result.reconciledAfter / first.reconciledAfter;
    console.log(`time(${result.total}) / time(${first.total}) = ${ratio.toFixed(2)} for ${(result.total / first.total).toFixed(1)}× the assistants`);
  }
}
