import * as k8s from "@kubernetes/client-node";
import { group, plural, version } from "../../src/api/schema.js";
import type { AIAssistant } from "../../src/api/types.generated.js";
import { validateAIAssistantSpec } from "../../src/api/validate.js";
import { eventually } from "./kube.js";

/** An AIAssistant as the API server would return it: defaults filled, uid and generation set. */
export function defaultedAIAssistant(spec: Record<string, unknown> = {}, name = "demo", namespace = "team-a"): AIAssistant {
  const validation = validateAIAssistantSpec(spec);
  if (!validation.ok) throw new Error(`invalid test spec: ${validation.errors.join("; ")}`);
  return {
    apiVersion: "aiassistant.dev/v1alpha1",
    kind: "AIAssistant",
    metadata: { name, namespace, uid: "0c6f1a34-5d1e-4c59-9d76-0f4c7d0b2e11", generation: 3 },
    spec: validation.spec,
  };
}

/** Where AIAssistants live in the API, for CustomObjectsApi calls. */
export const aiAssistants = { group, version, plural } as const;

export function condition(aia: AIAssistant, type: string) {
  return aia.status?.conditions?.find((c) => c.type === type);
}

export function readAIAssistant(kc: k8s.KubeConfig, namespace: string, name: string): Promise<AIAssistant> {
  return kc.makeApiClient(k8s.CustomObjectsApi).getNamespacedCustomObject({ ...aiAssistants, namespace, name }) as Promise<AIAssistant>;
}

/** Converged: the status and its Ready condition describe the current generation, and nothing blocks it. */
export function converged(aia: AIAssistant): boolean {
  const generation = aia.metadata.generation;
  return aia.status?.observedGeneration === generation && condition(aia, "Ready")?.observedGeneration === generation && condition(aia, "Degraded")?.status === "False";
}

/** Polls one AIAssistant until `accept` holds, and returns it. */
export function waitForAIAssistant(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  accept: (aia: AIAssistant) => boolean,
  options: { what?: string; timeoutMs?: number } = {},
): Promise<AIAssistant> {
  return eventually(
    options.what ?? `${name} to converge`,
    async () => {
      const aia = await readAIAssistant(kc, namespace, name);
      return accept(aia) ? aia : undefined;
    },
    options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
  );
}

/** Creates an AIAssistant as `kubectl create` would, and returns it as the API server stored it. */
export function createAIAssistant(kc: k8s.KubeConfig, namespace: string, name: string, spec: Record<string, unknown>): Promise<AIAssistant> {
  return kc.makeApiClient(k8s.CustomObjectsApi).createNamespacedCustomObject({
    ...aiAssistants,
    namespace,
    body: { apiVersion: `${group}/${version}`, kind: "AIAssistant", metadata: { name }, spec },
  }) as Promise<AIAssistant>;
}
