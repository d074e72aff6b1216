import { group, plural, version } from "../api/schema.js";

/** A kind the operator lists and watches, and how to build its list path. */
export interface WatchedKind {
  kind: string;
  /** e.g. "/apis/apps/v1"; namespaced paths put /namespaces/<ns> after it. */
  apiPrefix: string;
  resource: string;
}

export const aiAssistantKind: WatchedKind = { kind: "AIAssistant", apiPrefix: `/apis/${group}/${version}`, resource: plural };

/** Every kind the reconciler applies; their events requeue the owning AIAssistant. */
export const ownedKinds: WatchedKind[] = [
  { kind: "ServiceAccount", apiPrefix: "/api/v1", resource: "serviceaccounts" },
  { kind: "ConfigMap", apiPrefix: "/api/v1", resource: "configmaps" },
  { kind: "PersistentVolumeClaim", apiPrefix: "/api/v1", resource: "persistentvolumeclaims" },
  { kind: "Deployment", apiPrefix: "/apis/apps/v1", resource: "deployments" },
  { kind: "Service", apiPrefix: "/api/v1", resource: "services" },
  { kind: "HorizontalPodAutoscaler", apiPrefix: "/apis/autoscaling/v2", resource: "horizontalpodautoscalers" },
  { kind: "PodDisruptionBudget", apiPrefix: "/apis/policy/v1", resource: "poddisruptionbudgets" },
  { kind: "NetworkPolicy", apiPrefix: "/apis/networking.k8s.io/v1", resource: "networkpolicies" },
  { kind: "Ingress", apiPrefix: "/apis/networking.k8s.io/v1", resource: "ingresses" },
  { kind: "CronJob", apiPrefix: "/apis/batch/v1", resource: "cronjobs" },
];

/**
 * Watched, never written: the EndpointSlices of our Services. They carry the Service's labels, so
 * the same managed-by selector finds them, and a change requeues the AIAssistant — the rollout
 * promotes only once the preview's endpoints are programmed ready.
 */
export const endpointSliceKind: WatchedKind = { kind: "EndpointSlice", apiPrefix: "/apis/discovery.k8s.io/v1", resource: "endpointslices" };

export function listPath(kind: WatchedKind, namespace: string | undefined): string {
  return namespace === undefined ? `${kind.apiPrefix}/${kind.resource}` : `${kind.apiPrefix}/namespaces/${namespace}/${kind.resource}`;
}
