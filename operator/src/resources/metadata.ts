import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import { apiVersion } from "../api/crd.js";
import { kind } from "../api/schema.js";
import type { AIAssistant } from "../api/types.generated.js";

export const fieldManager = "aiassistant-operator";
export const managedByValue = "aiassistant-operator";

export const labelKeys = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  managedBy: "app.kubernetes.io/managed-by",
  color: "aiassistant.dev/color",
  /** The pod-template revision a pod runs: tells the pods of an old and a new template apart. */
  revision: "aiassistant.dev/revision",
} as const;

export const annotationKeys = {
  /** Hash of the configuration we applied to an object; a change means "apply again". */
  appliedHash: "aiassistant.dev/applied-hash",
  /** Hash of the rendered assistant config in the pod template, so a config change rolls out. */
  configHash: "aiassistant.dev/config-hash",
  /** The pod-template revision of a Deployment (also its pods' label). */
  revision: "aiassistant.dev/revision",
} as const;

/** Annotations users put on an AIAssistant to steer a rollout; the operator removes each once acted on. */
export const requestAnnotations = {
  promote: "aiassistant.dev/promote",
  abort: "aiassistant.dev/abort",
  rollback: "aiassistant.dev/rollback",
} as const;
export type RolloutRequest = keyof typeof requestAnnotations;

export type Color = "blue" | "green";
export const otherColor = (color: Color): Color => (color === "blue" ? "green" : "blue");

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
