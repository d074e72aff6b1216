// The one-command demo: a real control plane with simulated nodes, the operator, the sample
// AIAssistant, and a chat with the assistant the operator configured — then everything stops.
//
//   npm run demo          (npm run build first; npm run demo does it)
//
// No container runtime runs here, so the assistant "pod" is the assistant's compiled entry point
// started with the exact env, config and knowledge files the operator gave the Deployment.
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";

const root = fileURLToPath(new URL("../", import.meta.url));
const support = `${root}operator/dist/test/support/`;
const { startControlPlane, stopControlPlane } = await import(`${support}control-plane.js`);
const { installCRD, kubectl } = await import(`${support}crd.js`);
const { eventually } = await import(`${support}kube.js`);
const { OperatorProcess } = await import(`${support}operator-process.js`);
const { PodRunner } = await import(`${support}pod-runner.js`);

const step = (text) => console.log(`\n==> ${text}`);

step("starting a control plane: etcd, kube-apiserver, controller-manager, scheduler, kwok + 2 nodes");
const plane = await startControlPlane({ full: true });
process.env.KUBECONFIG = plane.kubeconfig;
let operator;
let pod;
try {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  console.log(await kubectl("get", "nodes"));

  step("installing the AIAssistant CRD and starting the operator");
  await installCRD(kc);
  operator = await new OperatorProcess({ LOG_LEVEL: "info" }).start();

  step("kubectl apply -f config/samples/aiassistant.yaml");
  // No storage provisioner runs here: offer a volume, as a cluster admin would.
  await kc.makeApiClient(k8s.CoreV1Api).createPersistentVolume({
    body: { metadata: { name: "demo-pv" }, spec: { capacity: { storage: "5Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/srv/demo" } } },
  });
  console.log(await kubectl("apply", "-n", "default", "-f", `${root}config/samples/aiassistant.yaml`));
  await eventually(
    "demo to be Ready",
    async () => ((await kubectl("get", "aia", "demo", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")) === "True" ? true : undefined),
    { timeoutMs: 120_000 },
  );
  console.log(await kubectl("get", "aia,deployments,services,pvc", "-n", "default"));

  step("running the assistant exactly as the Deployment specifies, and asking it two questions");
  const deployment = await kc.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({ name: "demo-blue", namespace: "default" });
  pod = await new PodRunner(kc, deployment).start();
  for (const message of ["My VPN connection drops every few minutes, what should I do?", "每年有几天带薪年假？"]) {
    const response = await fetch(`${pod.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message }),
    });
    const answer = await response.json();
    console.log(`\n> ${message}\n${answer.reply}\n(sources: ${answer.sources.map((s) => `[${s.index}] ${s.title}`).join(", ")})`);
  }
  step("done; stopping everything");
} finally {
  await pod?.stop();
  await operator?.stop();
  stopControlPlane(plane);
}
