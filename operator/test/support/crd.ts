import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { eventually } from "./kube.js";
import { runPinned } from "./tools.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** Runs the pinned kubectl against the tier's control plane. */
export function kubectl(...args: string[]): Promise<string> {
  return runPinned("kubectl", args);
}

/** Waits until the API server serves every named CustomResourceDefinition. */
async function established(kc: k8s.KubeConfig, names: readonly string[]): Promise<void> {
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const name of names) {
    await eventually(`the CRD ${name} to be established`, async () => {
      const current = await api.readCustomResourceDefinition({ name });
      return current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
    });
  }
}

/** Installs the generated CRD exactly as users do (`kubectl apply --server-side -f crds/`) and waits until it is served. */
export async function installCRD(kc: k8s.KubeConfig): Promise<void> {
  await kubectl("apply", "--server-side", "-f", `${root}crds/`);
  await established(kc, ["aiassistants.aiassistant.dev"]);
}

/** Installs the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs (the release hack/crds.sh pins). */
export async function installPrometheusOperatorCRDs(kc: k8s.KubeConfig): Promise<void> {
  const { stdout } = await run(`${root}hack/crds.sh`, ["prometheus-operator"]);
  const kinds = ["servicemonitors", "prometheusrules"];
  for (const plural of kinds) await kubectl("apply", "--server-side", "-f", `${stdout.trim()}/monitoring.coreos.com_${plural}.yaml`);
  await established(kc, kinds.map((plural) => `${plural}.monitoring.coreos.com`));
}
