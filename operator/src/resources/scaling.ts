import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import { apiVersion } from "../api/crd.js";
import { kind } from "../api/schema.js";
import type { AIAssistant } from "../api/types.generated.js";
import type { Color } from "../api/color.js";
import { colorSelector, ownedMetadata } from "./metadata.js";

const defaultCPUTarget = 80;

const utilization = (name: "cpu" | "memory", averageUtilization: number): V2MetricSpec => ({
  type: "Resource",
  resource: { name, target: { type: "Utilization", averageUtilization } },
});

/**
 * The HPA scales the AIAssistant itself through its /scale subresource (as Argo Rollouts does):
 * the operator sizes the colors, so a blue-green switch can never drop capacity.
 */
export function autoscaler(aia: AIAssistant): V2HorizontalPodAutoscaler | undefined {
  const autoscaling = aia.spec.autoscaling;
  if (!autoscaling) return undefined;
  const { minReplicas, maxReplicas, targetCPUUtilizationPercentage: cpu, targetMemoryUtilizationPercentage: memory, behavior } = autoscaling;
  const metrics: V2MetricSpec[] = [];
  if (cpu !== undefined || memory === undefined) metrics.push(utilization("cpu", cpu ?? defaultCPUTarget));
  if (memory !== undefined) metrics.push(utilization("memory", memory));
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: ownedMetadata(aia, aia.metadata.name ?? ""),
    spec: {
      scaleTargetRef: { apiVersion, kind, name: aia.metadata.name ?? "" },
      minReplicas,
      maxReplicas,
      metrics,
      ...(behavior ? { behavior } : {}),
    },
  }; // behavior is passed through; the API server validates it
}

/** With more than one pod, voluntary disruptions (node drains) take them one at a time. */
export function disruptionBudget(aia: AIAssistant, active: Color): V1PodDisruptionBudget | undefined {
  // The HPA keeps spec.replicas current, so an autoscaled assistant grown past one pod gets one too.
  const serving = Math.max(aia.spec.replicas, aia.spec.autoscaling?.minReplicas ?? 0);
  if (serving <= 1) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedMetadata(aia, aia.metadata.name ?? ""),
    spec: { maxUnavailable: 1, selector: { matchLabels: colorSelector(aia, active) } },
  };
}
