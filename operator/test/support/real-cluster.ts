import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import type { AIAssistant } from "../../src/api/types.generated.js";
import { condition, waitForAIAssistant } from "./aiassistant.js";
import { kubectl } from "./crd.js";
import { createNamespace } from "./kube.js";
import { quantile, type LoadReport } from "./load.js";

const samples = fileURLToPath(new URL("../../../../config/samples/", import.meta.url));

/** A fresh namespace that enforces the restricted Pod Security Standard: every pod in it must meet it. */
export async function restrictedNamespace(kc: k8s.KubeConfig, prefix: string): Promise<string> {
  const namespace = await createNamespace(kc, prefix);
  await kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted");
  return namespace;
}

/** `kubectl apply -f config/samples/<file>` into a namespace, as docs/install.md tells users to. */
export async function applySample(namespace: string, file: string): Promise<void> {
  await kubectl("apply", "-n", namespace, "-f", `${samples}${file}`);
}

/** Ready, at the current generation. */
export function ready(aia: AIAssistant): boolean {
  const generation = aia.metadata.generation;
  return aia.status?.observedGeneration === generation && condition(aia, "Ready")?.status === "True" && condition(aia, "Ready")?.observedGeneration === generation;
}

export function waitUntilReady(kc: k8s.KubeConfig, namespace: string, name: string, timeoutMs = 180_000): Promise<AIAssistant> {
  return waitForAIAssistant(kc, namespace, name, ready, { what: `${name} to be Ready`, timeoutMs });
}

/** A rollout away from revision `from` (the stableRevision before the change) has ended in `phase`. */
export function rolloutEnded(phase: "Completed" | "Aborted", from: string | undefined) {
  return (aia: AIAssistant): boolean => {
    const last = aia.status?.lastRollout;
    return aia.status?.observedGeneration === aia.metadata.generation && last?.phase === phase && last.revision !== from;
  };
}

/** A merge patch of the spec, as `kubectl patch --type=merge` sends it. */
export async function patchSpec(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await kubectl("patch", "aiassistant", name, "-n", namespace, "--type=merge", "-p", JSON.stringify({ spec }));
}

/** http://<ClusterIP>:<port> of a Service: reachable only inside the real node's namespace, where the tier runs. */
export async function serviceURL(kc: k8s.KubeConfig, namespace: string, name: string): Promise<string> {
  const service = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedService({ name, namespace });
  return `http://${service.spec?.clusterIP ?? ""}:${String(service.spec?.ports?.[0]?.port ?? 80)}`;
}

export interface ChatAnswer {
  reply: string;
  conversationId: string;
  sources: { title: string }[];
}

export async function chat(baseURL: string, message: string, conversationId?: string): Promise<ChatAnswer> {
  const response = await fetch(`${baseURL}/api/v1/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message, ...(conversationId === undefined ? {} : { conversationId }) }),
  });
  if (response.status !== 200) throw new Error(`chat: HTTP ${String(response.status)}: ${await response.text()}`);
  return (await response.json()) as ChatAnswer;
}

export async function conversationTurns(baseURL: string, conversationId: string): Promise<{ role: string; content: string }[]> {
  const response = await fetch(`${baseURL}/api/v1/conversations/${conversationId}`);
  if (response.status !== 200) throw new Error(`conversation ${conversationId}: HTTP ${String(response.status)}`);
  return ((await response.json()) as { turns: { role: string; content: string }[] }).turns;
}

/** One line on a load: requests, failures by outcome, and latency quantiles. */
export function describeLoad(report: LoadReport, durations = report.samples.map((sample) => sample.end - sample.start)): string {
  const outcomes = new Map<string, number>();
  for (const failure of report.failures) outcomes.set(failure.outcome, (outcomes.get(failure.outcome) ?? 0) + 1);
  const failed = [...outcomes].map(([outcome, count]) => `${outcome} x${String(count)}`).join(", ") || "none";
  return `${String(report.samples.length)} requests, failed: ${failed}; p50 ${quantile(durations, 0.5).toFixed(0)} ms, p99 ${quantile(durations, 0.99).toFixed(0)} ms`;
}

/** Where the operator's leader runs: the holder of its Lease. */
export async function leaderPod(kc: k8s.KubeConfig, namespace: string, lease: string): Promise<string> {
  return (await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: lease, namespace })).spec?.holderIdentity ?? "";
}
