import * as k8s from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { referencedObjects } from "../resources/assistant-config.js";
import type { Failure } from "./status.js";

/** A Secret reference into another namespace: refused, so one tenant can never use another's Secrets. */
export function crossNamespaceReference(aia: AIAssistant): Failure | undefined {
  const own = aia.metadata.namespace ?? "";
  const ref = referencedObjects(aia).find((r) => r.namespace !== undefined && r.namespace !== own);
  if (!ref) return undefined;
  return {
    reason: "CrossNamespaceReference",
    message: `${ref.field}: ${ref.kind} ${ref.namespace ?? ""}/${ref.name} is in another namespace; an AIAssistant may only use ${ref.kind}s in its own namespace (${own})`,
  };
}

/** The first referenced Secret/ConfigMap (or key) that does not exist, as a failure. */
export async function missingReference(core: k8s.CoreV1Api, aia: AIAssistant): Promise<Failure | undefined> {
  const namespace = aia.metadata.namespace ?? "";
  for (const ref of referencedObjects(aia)) {
    try {
      const object =
        ref.kind === "Secret"
          ? await core.readNamespacedSecret({ name: ref.name, namespace })
          : await core.readNamespacedConfigMap({ name: ref.name, namespace });
      if (ref.key !== undefined && object.data?.[ref.key] === undefined) {
        return { reason: `${ref.kind}KeyNotFound`, message: `${ref.field}: ${ref.kind} ${ref.name} has no key "${ref.key}"` };
      }
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) {
        return { reason: `${ref.kind}NotFound`, message: `${ref.field}: ${ref.kind} ${ref.name} not found in namespace ${namespace}` };
      }
      throw error;
    }
  }
  return undefined;
}
