import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { group, plural, version } from "../api/schema.js";
import type { AIAssistant, AIAssistantStatus } from "../api/types.generated.js";
import { otherColor, type Color } from "../api/color.js";
import { requestAnnotations } from "../api/labels.js";
import { colorSelector, fieldManager, selectorString } from "../resources/metadata.js";
import { serviceEndpoint } from "../resources/network.js";
import { deploymentProgress } from "../rollout/observe.js";
import type { RolloutPlan } from "../rollout/plan.js";
import type { EventRecorder } from "./events.js";
import { mergePatch } from "./merge-patch.js";
import { isDerivative } from "./semantic.js";

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

function monitoringCondition(aia: AIAssistant, next: ConditionInput | undefined): ConditionInput[] {
  if (next) return [next];
  const kept = aia.status?.conditions?.find((c) => c.type === "Monitoring");
  return kept ? [{ type: kept.type, status: kept.status, reason: kept.reason, message: kept.message }] : [];
}

const inFlight = (plan: RolloutPlan | undefined) => plan?.lastRollout?.phase === "Progressing" || plan?.lastRollout?.phase === "Paused";

function previewReadyCondition(plan: RolloutPlan | undefined): ConditionInput {
  if (!inFlight(plan)) return { type: "PreviewReady", status: "False", reason: "NoRollout", message: "no rollout in progress" };
  return plan?.previewReady
    ? { type: "PreviewReady", status: "True", reason: "PreviewAvailable", message: `revision ${plan.lastRollout?.revision ?? ""} is available behind the preview Service` }
    : { type: "PreviewReady", status: "False", reason: "PreviewNotReady", message: `waiting for ${plan?.waitingFor ?? "the preview color"}` };
}

function promotedCondition(plan: RolloutPlan | undefined, failure: Failure | undefined): ConditionInput {
  const revision = plan?.revision;
  if (plan && revision === plan.stableRevision) {
    return { type: "Promoted", status: "True", reason: "Promoted", message: `revision ${revision} serves traffic on ${plan.active}` };
  }
  if (plan?.lastRollout?.phase === "Paused") {
    return { type: "Promoted", status: "False", reason: "AwaitingPromotion", message: `kubectl annotate aia <name> ${requestAnnotations.promote}=true promotes revision ${revision ?? ""}` };
  }
  if (failure) return { type: "Promoted", status: "False", reason: failure.reason, message: failure.message };
  return { type: "Promoted", status: "False", reason: "RolloutInProgress", message: `waiting for ${plan?.waitingFor ?? "the rollout"}` };
}

/**
 * The whole status, from the spec, the rollout plan, both colors' Deployments as observed, and
 * any failure of this pass. Without a plan (an invalid spec, a missing Secret) the rollout state
 * the object already has is kept.
 */
export function computeStatus(
  aia: AIAssistant,
  input: {
    plan: RolloutPlan | undefined;
    deployments: Record<Color, k8s.V1Deployment | undefined>;
    failure: Failure | undefined;
    /** A failure beside the serving objects (an optional object refused): Degraded, but not unready. */
    extrasFailure?: Failure | undefined;
    /** Without one, the Monitoring condition the object has (if any) is kept. */
    monitoring?: ConditionInput | undefined;
    now: string;
  },
): AIAssistantStatus {
  const { plan } = input;
  const generation = aia.metadata.generation ?? 0;
  const active: Color = plan?.active ?? aia.status?.activeColor ?? "blue";
  const deployment = input.deployments[active];
  // A cutover scales the active color to zero before the new one starts: that is a gap in service,
  // not an assistant scaled to zero, so Ready waits for the count the spec asks for.
  const cuttingOver = inFlight(plan) && plan?.lastRollout?.mode === "Cutover";
  const desired = cuttingOver ? aia.spec.replicas : (plan?.colors[active].replicas ?? aia.spec.replicas);
  const progress = deploymentProgress(deployment, desired);
  // What keeps the active color from serving; an aborted rollout doesn't: the old color serves on.
  const servingFailure: Failure | undefined =
    input.failure ??
    (progress.deadlineExceeded
      ? { reason: "ProgressDeadlineExceeded", message: `the ${active} Deployment made no progress within spec.rollout.progressDeadlineSeconds (${progress.message})` }
      : undefined);
  const failure = servingFailure ?? input.extrasFailure ?? plan?.failure;
  const ready = servingFailure === undefined && progress.done;
  const rollingOut = inFlight(plan);
  const revision = plan?.lastRollout?.revision ?? plan?.stableRevision;
  const conditions = mergeConditions(
    aia.status?.conditions,
    [
      ready
        ? { type: "Ready", status: "True", reason: desired === 0 ? "ScaledToZero" : "Available", message: `${active}: ${progress.message}` }
        : { type: "Ready", status: "False", reason: servingFailure?.reason ?? "Deploying", message: servingFailure?.message ?? `${active}: ${progress.message}` },
      rollingOut
        ? { type: "Progressing", status: "True", reason: plan?.lastRollout?.phase === "Paused" ? "RolloutPaused" : "RolloutInProgress", message: `revision ${revision ?? ""}: waiting for ${plan?.waitingFor ?? "the preview color"}` }
        : progress.done || failure
          ? { type: "Progressing", status: "False", reason: failure ? "Blocked" : "Reconciled", message: failure ? "waiting for the problem in Degraded to be fixed" : "all objects are up to date" }
          : { type: "Progressing", status: "True", reason: "Deploying", message: `${active}: ${plan?.waitingFor ?? progress.message}` },
      failure
        ? { type: "Degraded", status: "True", reason: failure.reason, message: failure.message }
        : { type: "Degraded", status: "False", reason: "Reconciled", message: "no problems" },
      previewReadyCondition(plan),
      promotedCondition(plan, failure),
      ...monitoringCondition(aia, input.monitoring),
    ],
    generation,
    input.now,
  );
  const stableRevision = plan?.stableRevision ?? aia.status?.stableRevision;
  const lastRollout = plan ? plan.lastRollout : aia.status?.lastRollout;
  return {
    observedGeneration: generation,
    conditions,
    activeColor: active,
    previewColor: otherColor(active),
    replicas: deployment?.status?.replicas ?? 0,
    readyReplicas: deployment?.status?.readyReplicas ?? 0,
    selector: selectorString(colorSelector(aia, active)),
    endpoint: serviceEndpoint(aia),
    ...(stableRevision === undefined ? {} : { stableRevision }),
    ...(lastRollout === undefined ? {} : { lastRollout }),
  };
}

/** What a pass knows when it writes the status; without a plan, the rollout state the object has is kept. */
export interface StatusUpdate {
  aia: AIAssistant;
  plan?: RolloutPlan | undefined;
  /** What keeps the assistant from converging (an invalid spec, a missing Secret, a failed apply). */
  failure?: Failure | undefined;
  /** Both colors' Deployments as observed; none when the pass stopped before reading them. */
  deployments?: Record<Color, k8s.V1Deployment | undefined>;
  monitoring?: ConditionInput | undefined;
  extrasFailure?: Failure | undefined;
  log: Logger;
}

/** Writes the status subresource, and a Warning Event when the assistant becomes Degraded. */
export class StatusWriter {
  constructor(
    private readonly custom: k8s.CustomObjectsApi,
    private readonly events: EventRecorder,
    private readonly now: () => Date,
  ) {}

  /** Writes the status when it differs from what the object already says; true when it wrote. */
  async write(update: StatusUpdate): Promise<boolean> {
    const { aia, plan, failure, extrasFailure, monitoring, log } = update;
    const deployments = update.deployments ?? { blue: undefined, green: undefined };
    const status = computeStatus(aia, { plan, deployments, failure, extrasFailure, monitoring, now: this.now().toISOString() });
    if (sameStatus(aia.status, status)) return false;
    const wasDegraded = aia.status?.conditions?.find((c) => c.type === "Degraded");
    const degraded = status.conditions?.find((c) => c.type === "Degraded");
    // A merge patch with nulls for what went away: lastRollout fields of an earlier rollout must not linger.
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group,
        version,
        plural,
        namespace: aia.metadata.namespace ?? "",
        name: aia.metadata.name ?? "",
        body: { status: mergePatch(aia.status ?? {}, status) },
        fieldManager,
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    log.debug({ ready: status.conditions?.find((c) => c.type === "Ready")?.status }, "status updated");
    if (degraded?.status === "True" && (wasDegraded?.status !== "True" || wasDegraded.reason !== degraded.reason)) {
      log.warn({ reason: degraded.reason }, degraded.message);
      await this.events.record(aia, "Warning", degraded.reason, degraded.message);
    }
    return true;
  }
}

function sameStatus(before: AIAssistantStatus | undefined, after: AIAssistantStatus): boolean {
  return before !== undefined && isDerivative(after, before) && isDerivative(before, after);
}
