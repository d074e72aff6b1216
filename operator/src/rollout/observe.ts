import type { V1Deployment, V1Endpoint, V1EndpointSlice, V1Pod } from "@kubernetes/client-node";
import type { Color } from "../api/color.js";
import { annotationKeys, labelKeys } from "../api/labels.js";
import type { ColorObservation, PodFact } from "./plan.js";

/** Where a Deployment's own rollout stands, as its controller reports it. */
export interface DeploymentProgress {
  /** The controller has seen the newest spec, and every wanted replica is updated and available. */
  done: boolean;
  available: number;
  deadlineExceeded: boolean;
  message: string;
}

export function deploymentProgress(deployment: V1Deployment | undefined, desired: number): DeploymentProgress {
  const status = deployment?.status;
  const available = status?.availableReplicas ?? 0;
  const updated = status?.updatedReplicas ?? 0;
  const observed = (status?.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 1);
  // A condition from before the controller saw the newest spec is about the previous revision.
  const deadlineExceeded = observed && (status?.conditions?.some((c) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded") ?? false);
  const done = deployment !== undefined && observed && updated >= desired && available >= desired && (status?.replicas ?? 0) === desired;
  return { done, available, deadlineExceeded, message: `${String(available)}/${String(desired)} replicas available` };
}

/**
 * The pods that run or may run. A pod that ended (Failed: evicted, or stopped by a node shutdown;
 * Succeeded) stays in the API until garbage-collected, though its containers are gone and its volumes
 * released: counting it would keep a color from ever being ready, or from ever being drained.
 */
export function podFacts(pods: V1Pod[]): PodFact[] {
  const live = pods.filter((pod) => pod.status?.phase !== "Failed" && pod.status?.phase !== "Succeeded");
  return live.map((pod) => ({
    name: pod.metadata?.name ?? "",
    revision: pod.metadata?.labels?.[labelKeys.revision],
    ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    terminating: pod.metadata?.deletionTimestamp !== undefined,
    running: (pod.status?.containerStatuses ?? []).some((container) => container.state?.running !== undefined),
  }));
}

/** One color as the rollout plan sees it; `pods` are the instance's pods (both colors) when listed. */
export function observeColor(color: Color, deployment: V1Deployment | undefined, pods: V1Pod[] | undefined): ColorObservation {
  const replicas = deployment?.spec?.replicas ?? 0;
  const progress = deploymentProgress(deployment, replicas);
  return {
    revision: deployment?.metadata?.annotations?.[annotationKeys.revision],
    replicas,
    available: progress.done,
    deadlineExceeded: progress.deadlineExceeded,
    pods: pods && podFacts(pods.filter((pod) => pod.metadata?.labels?.[labelKeys.color] === color)),
  };
}

/** The endpoints of a slice. */
export function endpointsOf(slice: V1EndpointSlice): V1Endpoint[] {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a slice with no endpoints comes without the field, though the type calls it required
  return slice.endpoints ?? [];
}

/** Pods the EndpointSlices list as ready (an unset `ready` means ready, per the API). */
export function readyEndpointPods(slices: V1EndpointSlice[]): Set<string> {
  const names = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of endpointsOf(slice)) {
      if (endpoint.conditions?.ready !== false && endpoint.targetRef?.kind === "Pod" && endpoint.targetRef.name) names.add(endpoint.targetRef.name);
    }
  }
  return names;
}
