import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import { apiVersion } from "../api/crd.js";
import { kind } from "../api/schema.js";
import type { Color } from "../api/color.js";
import { labelKeys, managedByValue } from "../api/labels.js";
import type { AIAssistant } from "../api/types.generated.js";

export const fieldManager = "aiassistant-operator";

/** Labels every object of one assistant carries; `managed-by` is what the operator's watches select. */
export function instanceLabels(aia: AIAssistant): Record<string, string> {
  return {
    [labelKeys.name]: "ai-assistant",
    [labelKeys.instance]: aia.metadata.name ?? "",
    [labelKeys.managedBy]: managedByValue,
  };
}

/** The labels of the assistant's own pods (both colors); a backup Job's pods are placed beside them by these. */
export function assistantPodLabels(aia: AIAssistant): Record<string, string> {
  return {
    [labelKeys.name]: "ai-assistant",
    [labelKeys.instance]: aia.metadata.name ?? "",
    [labelKeys.component]: "assistant",
  };
}

/** The pods of one color: the immutable Deployment selector and the Services' selectors. */
export function colorSelector(aia: AIAssistant, color: Color): Record<string, string> {
  return {
    [labelKeys.name]: "ai-assistant",
    [labelKeys.instance]: aia.metadata.name ?? "",
    [labelKeys.color]: color,
  };
}

export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

export function ownerReference(aia: AIAssistant): V1OwnerReference {
  return {
    apiVersion,
    kind,
    name: aia.metadata.name ?? "",
    uid: aia.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of an owned object: name, namespace, labels and (unless `owned` is false) the owner. */
export function ownedMetadata(
  aia: AIAssistant,
  name: string,
  options: { owned?: boolean; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): V1ObjectMeta {
  return {
    name,
    namespace: aia.metadata.namespace ?? "",
    labels: { ...instanceLabels(aia), ...options.labels },
    ...(options.annotations ? { annotations: options.annotations } : {}),
    ...(options.owned === false ? {} : { ownerReferences: [ownerReference(aia)] }),
  };
}
