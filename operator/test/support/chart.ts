import { fileURLToPath } from "node:url";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { helm } from "./tools.js";

export const chartDir = fileURLToPath(new URL("../../../../charts/ai-assistant-operator", import.meta.url));
export const chartNamespace = "aiassistant-system";
export const releaseName = "ai-assistant-operator";

/** The YAML documents of a multi-document stream, without the empty ones. */
export function documents(yaml: string): KubernetesObject[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((d): d is KubernetesObject => d !== null);
}

/** `helm template` of the chart with the pinned helm: the objects it would install, CRDs included. */
export async function renderChart(...args: string[]): Promise<KubernetesObject[]> {
  return documents(await helm("template", releaseName, chartDir, "--namespace", chartNamespace, "--include-crds", ...args));
}
