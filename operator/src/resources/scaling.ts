import type { V1PodDisruptionBudget, V2HorizontalPodAutoscaler, V2MetricSpec } from "@kubernetes/client-node";
import { apiVersion } from "../api/crd.js";
import { positiveQuantity } from "../api/quantity.js";
import { kind } from "../api/schema.js";
import type { AIAssistant } from "../api/types.generated.js";
import type { Color } from "../api/color.js";
import { colorSelector, ownedMetadata } from "./metadata.js";

/**
 * A pod's requests share one event loop (docs/operations.md, "Sizing the assistant"): measured, the
 * pod adds about 10 ms or less at p99 while its process stays near half a core, and queues requests
 * past that. The HPA's CPU target is a share of the pod's request, so the default is the share that
 * is half a core, and no more than the HPA's customary 80 % for pods that request less.
 */
const heldCores = 0.5;
const customaryTarget = 80;
/** Chat traffic takes a pod's process to about one core (the event loop, V8's helpers beside it) and no further. */
const saturatedCores = 1;

/** The CPU the pod requests, in cores: a container with a limit and no request gets the limit as its request. */
function requestedCores(aia: AIAssistant): number | undefined {
  const { requests, limits } = aia.spec.resources ?? {};
  return positiveQuantity(requests?.["cpu"] ?? limits?.["cpu"]);
}

/** The share of a request of `cores` that is half a core, in percent. */
const halfCoreShare = (cores: number): number => Math.max(1, Math.floor((100 * heldCores) / cores));

/** The explicit target, or the share of the request that is half a core (80 without a request: the HPA then reports the missing request). */
function cpuTarget(aia: AIAssistant): number {
  const explicit = aia.spec.autoscaling?.targetCPUUtilizationPercentage;
  if (explicit !== undefined) return explicit;
  const cores = requestedCores(aia);
  return cores === undefined ? customaryTarget : Math.min(customaryTarget, halfCoreShare(cores));
}

/** Why an explicit CPU target would let pods saturate before the HPA adds one, or undefined when it would not. */
export function unreachableCpuTarget(aia: AIAssistant): string | undefined {
  const target = aia.spec.autoscaling?.targetCPUUtilizationPercentage;
  const cores = requestedCores(aia);
  if (target === undefined || cores === undefined || (target * cores) / 100 < saturatedCores) return undefined;
  return (
    `autoscaling holds each pod at ${String(target)}% of its CPU request (${String(Number(((target * cores) / 100).toFixed(2)))} CPU), ` +
    `but a pod's requests share one event loop, which saturates near ${String(saturatedCores)} CPU: pods would be added only after requests queue. ` +
    `Lower targetCPUUtilizationPercentage (${String(halfCoreShare(cores))} holds half a CPU) or the CPU request.`
  );
}

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
  if (cpu !== undefined || memory === undefined) metrics.push(utilization("cpu", cpuTarget(aia)));
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
