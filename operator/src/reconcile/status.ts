import type { V1Deployment } from "@kubernetes/client-node";
import type { AIAssistant, AIAssistantStatus } from "../api/types.generated.js";
import { colorSelector, otherColor, selectorString, type Color } from "../resources/metadata.js";
import { serviceEndpoint } from "../resources/network.js";

export type Condition = NonNullable<AIAssistantStatus["conditions"]>[number];
export type ConditionInput = Pick<Condition, "type" | "status" | "reason" | "message">;

/** A problem that stops the reconcile from converging, shown as Degraded. */
export interface Failure {
  reason: string;
  message: string;
}

/**
 * Merges `next` into `previous` conditions the metav1.Condition way: lastTransitionTime moves
 * only when the status flips, so an unchanged condition compares equal and causes no write.
 */
export function mergeConditions(previous: Condition[] | undefined, next: ConditionInput[], generation: number, now: string): Condition[] {
  return next.map((condition) => {
    const before = previous?.find((c) => c.type === condition.type);
    const lastTransitionTime = before && before.status === condition.status ? before.lastTransitionTime : now;
    return { ...condition, observedGeneration: generation, lastTransitionTime };
  });
}

/**
 * Set fields this release (operator and assistant 0.1.0) accepts and validates but does not act
 * on yet. The assistant refuses to start on the ones it would have to enforce (auth, postgres,
 * skills, …) rather than run without them, so the pods fail closed; this condition says why.
 */
export function notActedOn(aia: AIAssistant): string[] {
  const spec = aia.spec;
  const { ingress, networkPolicy, monitoring, backup, rollout } = spec;
  const fields: [boolean, string][] = [
    [spec.storage.mode === "postgres", "spec.storage.mode postgres"],
    [spec.embeddings !== undefined, "spec.embeddings"],
    [(spec.knowledge?.sources ?? []).some((source) => source.url !== undefined), "spec.knowledge.sources[].url"],
    [spec.auth.mode !== "none", "spec.auth"],
    [spec.rateLimit !== undefined, "spec.rateLimit"],
    [(spec.skills ?? []).length > 0, "spec.skills"],
    [ingress.enabled, "spec.ingress"],
    [networkPolicy.enabled, "spec.networkPolicy"],
    [monitoring.enabled, "spec.monitoring"],
    [backup.enabled, "spec.backup"],
    [
      !rollout.autoPromotion ||
        rollout.autoPromotionSeconds !== undefined ||
        rollout.previewTTLSeconds !== undefined ||
        rollout.previewReplicaCount !== undefined,
      "spec.rollout (blue-green promotion settings)",
    ],
  ];
  return fields.filter(([set]) => set).map(([, field]) => field);
}

interface Rollout {
  done: boolean;
  available: number;
  message: string;
  deadlineExceeded: boolean;
}

function rolloutOf(deployment: V1Deployment | undefined, desired: number): Rollout {
  const status = deployment?.status;
  const available = status?.availableReplicas ?? 0;
  const updated = status?.updatedReplicas ?? 0;
  const observed = (status?.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 1);
  const deadlineExceeded = status?.conditions?.some((c) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded") ?? false;
  const done = deployment !== undefined && observed && updated >= desired && available >= desired && (status?.replicas ?? 0) === desired;
  return { done, available, deadlineExceeded, message: `${available}/${desired} replicas available` };
}

/** The whole status, from the spec, the active Deployment as observed, and any failure. */
export function computeStatus(
  aia: AIAssistant,
  input: { active: Color; deployment: V1Deployment | undefined; failure: Failure | undefined; now: string },
): AIAssistantStatus {
  const generation = aia.metadata.generation ?? 0;
  const desired = aia.spec.replicas;
  const rollout = rolloutOf(input.deployment, desired);
  const failure: Failure | undefined =
    input.failure ??
    (rollout.deadlineExceeded
      ? { reason: "ProgressDeadlineExceeded", message: `the ${input.active} Deployment made no progress within spec.rollout.progressDeadlineSeconds (${rollout.message})` }
      : undefined);
  const ready = failure === undefined && rollout.done;
  const unsupported = notActedOn(aia);
  const conditions = mergeConditions(
    aia.status?.conditions,
    [
      ready
        ? { type: "Ready", status: "True", reason: desired === 0 ? "ScaledToZero" : "Available", message: rollout.message }
        : { type: "Ready", status: "False", reason: failure?.reason ?? "Deploying", message: failure?.message ?? rollout.message },
      rollout.done || failure
        ? { type: "Progressing", status: "False", reason: failure ? "Blocked" : "Reconciled", message: failure ? "waiting for the problem in Degraded to be fixed" : "all objects are up to date" }
        : { type: "Progressing", status: "True", reason: "Deploying", message: rollout.message },
      failure
        ? { type: "Degraded", status: "True", reason: failure.reason, message: failure.message }
        : { type: "Degraded", status: "False", reason: "Reconciled", message: "no problems" },
      unsupported.length > 0
        ? { type: "Unsupported", status: "True", reason: "FieldsNotActedOn", message: `set but not acted on by this operator version: ${unsupported.join(", ")}` }
        : { type: "Unsupported", status: "False", reason: "AllFieldsActedOn", message: "every set field is acted on" },
    ],
    generation,
    input.now,
  );
  return {
    observedGeneration: generation,
    conditions,
    activeColor: input.active,
    previewColor: otherColor(input.active),
    replicas: input.deployment?.status?.replicas ?? 0,
    readyReplicas: input.deployment?.status?.readyReplicas ?? 0,
    selector: selectorString(colorSelector(aia, input.active)),
    endpoint: serviceEndpoint(aia),
  };
}
