import type * as k8s from "@kubernetes/client-node";

/** Read access to the informer caches the reconciler decides from. */
export interface ObjectCache<T extends k8s.KubernetesObject = k8s.KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  /** The objects of `namespace` labelled as the AIAssistant `instance`'s, from an index: a reconcile reads only its own. */
  ownedBy(namespace: string, instance: string): T[];
}
