/**
 * The labels and annotations the operator puts on what it owns and reads back, and the ones users
 * put on an AIAssistant: the contract between the objects resources/ renders and what rollout/
 * observes of them, so it sits below both.
 */

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
