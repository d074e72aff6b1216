import type * as k8s from "@kubernetes/client-node";

/*
 * What the operator's caches keep of each object (client-go's SetTransform): at thousands of
 * assistants the caches are most of the heap, so fields no reconcile reads are dropped before an
 * object is stored. Everything the reconciler compares with what it would apply stays: a field
 * missing from the cache would look like drift and be applied again on every pass.
 */

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Server-side apply gives every object managedFields often larger than the object itself, and
 * `kubectl apply` (client-side) a copy of the whole object in an annotation; neither is ever read.
 */
export function withoutBookkeeping<T extends k8s.KubernetesObject>(object: T): T {
  const metadata = object.metadata;
  if (metadata?.managedFields) delete metadata.managedFields;
  if (metadata?.annotations?.[lastApplied] !== undefined) {
    metadata.annotations = Object.fromEntries(Object.entries(metadata.annotations).filter(([key]) => key !== lastApplied));
  }
  return object;
}

/** Of a Deployment's conditions only the type and reason are read (ProgressDeadlineExceeded). */
function slimDeployment<T extends k8s.KubernetesObject>(object: T): T {
  const status = (object as k8s.V1Deployment).status;
  if (status?.conditions) status.conditions = status.conditions.map(({ type, status: value, reason }) => ({ type, status: value, ...(reason === undefined ? {} : { reason }) }));
  return withoutBookkeeping(object);
}

/** Of an EndpointSlice only who owns it and which pods it lists, ready or not (rollout/observe.ts). */
function slimEndpointSlice<T extends k8s.KubernetesObject>(object: T): T {
  // A slice with no endpoints comes without the field, though the type calls it required.
  const slice: Partial<k8s.V1EndpointSlice> = object;
  slice.endpoints = (slice.endpoints ?? []).map(({ conditions, targetRef }) => ({
    addresses: [],
    ...(conditions?.ready === undefined ? {} : { conditions: { ready: conditions.ready } }),
    ...(targetRef ? { targetRef: { kind: targetRef.kind, name: targetRef.name } } : {}),
  }));
  delete slice.ports;
  return withoutBookkeeping(object);
}

/** The transform of the cache of `kind`. */
export function cacheTransform<T extends k8s.KubernetesObject>(kind: string): (object: T) => T {
  switch (kind) {
    case "Deployment":
      return slimDeployment;
    case "EndpointSlice":
      return slimEndpointSlice;
    default:
      return withoutBookkeeping;
  }
}
