import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { eventually } from "./kube.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** Runs the pinned kubectl against the tier's control plane. */
export async function kubectl(...args: string[]): Promise<string> {
  const { stdout: path } = await run(`${root}hack/binaries.sh`, ["path", "kubectl"]);
  const { stdout } = await run(path.trim(), args, { cwd: root, maxBuffer: 16 << 20 });
  return stdout;
}

/** Installs the generated CRD exactly as users do (`kubectl apply --server-side -f crds/`) and waits until it is served. */
export async function installCRD(kc: k8s.KubeConfig): Promise<void> {
  await kubectl("apply", "--server-side", "-f", `${root}crds/`);
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  await eventually("the AIAssistant CRD to be established", async () => {
    const current = await api.readCustomResourceDefinition({ name: "aiassistants.aiassistant.dev" });
    return current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
  });
}
