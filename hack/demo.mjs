// The one-command demo: a real control plane with simulated nodes, the operator installed with
// its Helm chart, the sample AIAssistant reconciled to Ready, and the assistant the operator
// configured answering on localhost until Ctrl-C.
//
//   npm run demo               prints curl commands to try, keeps running until Ctrl-C
//   npm run demo -- --check    (CI) runs those very curl commands instead, checks that each answer
//                              cites the sample's knowledge, tears down and exits (0 when all did)
//   npm run demo -- --real [--check] [--keep]   the same on a real node (hack/demo-real.mjs)
//
// No container runtime runs here: kwok marks the chart's operator pods Running without starting
// them. So the operator runs as a local process with the env of the chart's Deployment and a token
// of the chart's ServiceAccount (RBAC decides each of its calls, as in a cluster), and the
// assistant "pod" is the assistant's entry point started with the exact env, config and knowledge
// files the operator gave its Deployment.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { curlCommand, questions, runAndCheck, sampleFile, sampleTitles, step } from "./demo-answers.mjs";

if (process.argv.includes("--real")) {
  const { realDemo } = await import("./demo-real.mjs");
  process.exit(await realDemo({ check: process.argv.includes("--check"), keep: process.argv.includes("--keep") }));
}

const root = fileURLToPath(new URL("../", import.meta.url));
const support = `${root}operator/dist/test/support/`;
const { startControlPlane, stopControlPlane } = await import(`${support}control-plane.js`);
const { chartDir, chartNamespace, releaseName } = await import(`${support}chart.js`);
const { kubectl } = await import(`${support}crd.js`);
const { eventually } = await import(`${support}kube.js`);
const { OperatorProcess } = await import(`${support}operator-process.js`);
const { PodRunner } = await import(`${support}pod-runner.js`);
const { serviceAccountKubeconfig } = await import(`${support}service-account.js`);
const { helm } = await import(`${support}tools.js`);

const check = process.argv.includes("--check");

let dir;
let planeStarting;
let operator;
let pod;
let stopping = false;

/** Stops whatever has started, newest first; safe to call at any point, once. */
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  step("stopping the assistant, the operator and the control plane");
  await pod?.stop().catch(() => undefined);
  await operator?.stop().catch(() => undefined);
  const plane = await planeStarting?.catch(() => undefined);
  if (plane) stopControlPlane(plane);
  if (dir) await rm(dir, { recursive: true, force: true });
  process.exit(code);
}
process.once("SIGINT", () => void shutdown(130)).once("SIGTERM", () => void shutdown(143));

try {
  dir = await mkdtemp(join(tmpdir(), "aia-demo-"));
  step("starting a control plane: etcd, kube-apiserver, controller-manager, scheduler, kwok + 2 nodes");
  planeStarting = startControlPlane({ full: true });
  process.env.KUBECONFIG = (await planeStarting).kubeconfig;
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  console.log(await kubectl("get", "nodes"));

  step(`helm install ${releaseName} charts/ai-assistant-operator --namespace ${chartNamespace} --create-namespace --wait`);
  console.log(await helm("install", releaseName, chartDir, "--namespace", chartNamespace, "--create-namespace", "--wait", "--timeout", "3m"));
  console.log(await kubectl("get", "deployments,serviceaccounts,services,crds", "-n", chartNamespace));

  step("running the operator as the chart's Deployment specifies, with a token of its ServiceAccount");
  const chartDeployment = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: releaseName, namespace: chartNamespace });
  const env = Object.fromEntries((chartDeployment.spec.template.spec.containers[0].env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
  const serviceAccount = chartDeployment.spec.template.spec.serviceAccountName;
  operator = new OperatorProcess({
    ...env,
    POD_NAMESPACE: chartNamespace,
    LEADER_ELECTION_NAMESPACE: chartNamespace,
    KUBECONFIG: await serviceAccountKubeconfig(join(dir, "operator.kubeconfig"), chartNamespace, serviceAccount, "24h"),
  });
  await operator.start();
  console.log(`operator ${operator.identity} serves /healthz, /readyz and /metrics on http://127.0.0.1:${operator.port}`);

  step("kubectl apply -f config/samples/aiassistant.yaml");
  // No storage provisioner runs here: offer a volume, as a cluster admin would.
  await kc.makeApiClient(k8s.CoreV1Api).createPersistentVolume({
    body: { metadata: { name: "demo-pv" }, spec: { capacity: { storage: "5Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/srv/demo" } } },
  });
  console.log(await kubectl("apply", "-n", "default", "-f", sampleFile));
  const active = await eventually(
    "demo to be Ready",
    async () => {
      const ready = await kubectl("get", "aia", "demo", "-n", "default", "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.activeColor}');
      const [status, color] = ready.split(" ");
      return status === "True" && color ? color : undefined;
    },
    { timeoutMs: 180_000 },
  );
  console.log(await kubectl("get", "aia,deployments,services,pvc", "-n", "default"));

  step("running the assistant exactly as the Deployment specifies (the sample's knowledge ConfigMap is ingested at start)");
  const deployment = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: `demo-${active}`, namespace: "default" });
  pod = new PodRunner(kc, deployment, 8080);
  await pod.start();
  const port = new URL(pod.url).port;
  const commands = questions.map((message) => curlCommand(`http://localhost:${port}`, message));

  if (check) {
    step("--check: running the commands a user would run");
    const titles = await sampleTitles();
    for (const command of commands) await runAndCheck(command, titles);
    await shutdown(0);
  } else {
    step(`the assistant answers on http://localhost:${port} (what kubectl port-forward svc/demo ${port}:80 gives you in a cluster); try:`);
    for (const command of commands) console.log(`\n  ${command}`);
    console.log("\nKnowledge: the sample's ConfigMap demo-handbook is mounted and was ingested at start (an upload API is issue #6).");
    console.log("Press Ctrl-C to stop everything.");
    // Holds the demo up until Ctrl-C, even if a child process ends.
    setInterval(() => undefined, 60_000);
  }
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
  if (operator) console.error(operator.output.split("\n").slice(-20).join("\n"));
  if (pod) console.error(pod.output.split("\n").slice(-20).join("\n"));
  await shutdown(1);
}
