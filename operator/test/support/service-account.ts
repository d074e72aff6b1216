import { readFile, writeFile } from "node:fs/promises";
import { parse, stringify } from "yaml";
import { kubectl } from "./crd.js";

/**
 * Writes a kubeconfig at `file` that is the ServiceAccount `namespace/name` on the cluster of the
 * admin kubeconfig in KUBECONFIG: a real token, so RBAC decides every call its holder makes.
 */
export async function serviceAccountKubeconfig(file: string, namespace: string, name: string, duration = "1h"): Promise<string> {
  const admin = parse(await readFile(process.env["KUBECONFIG"] ?? "", "utf8")) as { clusters: { name: string }[] };
  const token = (await kubectl("create", "token", name, "-n", namespace, `--duration=${duration}`)).trim();
  await writeFile(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: admin.clusters,
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: admin.clusters[0]?.name ?? "", user: name } }],
      "current-context": name,
    }),
  );
  return file;
}
