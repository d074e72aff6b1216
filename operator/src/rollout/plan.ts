import type { AIAssistantSpec, AIAssistantStatus } from "../api/types.generated.js";
import { otherColor, type Color, type ColorPlan } from "../api/color.js";
import { requestAnnotations, type RolloutRequest } from "../api/labels.js";
import { whyNotPromoted } from "./why-not-promoted.js";

export type LastRollout = NonNullable<AIAssistantStatus["lastRollout"]>;
export type RolloutPhase = NonNullable<LastRollout["phase"]>;
export type RolloutMode = NonNullable<LastRollout["mode"]>;
export type RolloutSettings = AIAssistantSpec["rollout"];

/** One pod of a color, as listed from the API server. */
export interface PodFact {
  name: string;
  revision: string | undefined;
  ready: boolean;
  terminating: boolean;
  /** Its containers have started (an assistant that waits for its volume runs, unready). */
  running: boolean;
}

/** What the cluster says about one color's Deployment (and, when listed, its pods). */
export interface ColorObservation {
  /** The Deployment's pod-template revision; undefined when it doesn't exist. */
  revision: string | undefined;
  /** The Deployment's spec.replicas. */
  replicas: number;
  /** The Deployment controller has caught up and every replica is updated and available. */
  available: boolean;
  deadlineExceeded: boolean;
  /** Undefined when the reconciler didn't need to list them. */
  pods: PodFact[] | undefined;
}

export interface RolloutInput {
  /** Revision of the pod template the spec asks for. */
  revision: string;
  /** spec.replicas: what an HPA writes through /scale, so it is always the current count. */
  replicas: number;
  settings: RolloutSettings;
  /** Embedded storage: two pods must never open the same SQLite file, so colors never overlap. */
  exclusive: boolean;
  status: Pick<AIAssistantStatus, "activeColor" | "stableRevision" | "lastRollout"> | undefined;
  requests: ReadonlySet<RolloutRequest>;
  observed: Record<Color, ColorObservation>;
  /** Pod names the preview Service's EndpointSlices list as ready. */
  previewEndpoints: ReadonlySet<string>;
  now: Date;
}

export interface RolloutEvent {
  reason: string;
  message: string;
}

export interface RolloutPlan {
  /** The spec's revision (the input's). */
  revision: string;
  active: Color;
  /**
   * The color the stable Service selects: the active one, except in a cutover in flight, where it is
   * the color that is starting. The old pod is on its way out then and nothing else serves, so
   * clients are refused at once (no endpoints) instead of being sent to a pod that is disappearing,
   * and the new pod takes traffic the moment it is ready, with no promotion step in between.
   */
  stable: Color;
  stableRevision: string;
  lastRollout: LastRollout | undefined;
  colors: Record<Color, ColorPlan>;
  /**
   * Whether the preview Service should exist: while a rollout is in flight (promotion waits for its
   * EndpointSlices) or the idle color still runs pods (kept for a rollback, or winding down after an
   * abort). Outside of that it would hold a ClusterIP, and cost the API server an allocation, for
   * nothing to reach.
   */
  preview: boolean;
  /** Request annotations acted on (or refused), to be removed from the AIAssistant. */
  consumed: RolloutRequest[];
  events: RolloutEvent[];
  /** What the rollout waits for, for the Progressing condition; undefined when it waits for nothing. */
  waitingFor: string | undefined;
  previewReady: boolean;
  /** The spec's revision was aborted or rolled back: traffic stays on the old one (Degraded). */
  failure: { reason: string; message: string } | undefined;
  /** When a timer (auto-promotion, TTL, deadline, scale-down delay) next needs a look. */
  requeueAfterMs: number | undefined;
}

const inFlight = (phase: RolloutPhase | undefined): boolean => phase === "Progressing" || phase === "Paused";
const seconds = (value: number) => value * 1000;
/** Reasons a rollout ends without being promoted that still leave the spec served. */
const benignEnds = new Set(["Superseded"]);
/** How often a cutover looks whether the new pod has started (a list of one namespace's assistant pods). */
export const cutoverPollMs = 500;
/** How long the old pod waits for the new one to start beside it before it stops anyway. */
export const handoverWaitMs = 60_000;

/**
 * The blue-green state machine as one pure function: the rollout state from the status, the
 * observed Deployments, pods and EndpointSlices, and the clock in; what every color should run,
 * which one the stable Service selects, and the next state out. Calling it again with the same
 * inputs gives the same answer, so a restarted operator resumes any rollout from the status alone.
 */
export function planRollout(input: RolloutInput): RolloutPlan {
  return new PlanBuilder(input).build();
}

class PlanBuilder {
  private active: Color;
  private stableRevision: string;
  private last: LastRollout | undefined;
  private readonly consumed: RolloutRequest[] = [];
  private readonly events: RolloutEvent[] = [];
  private readonly timers: number[] = [];
  private waitingFor: string | undefined;
  /** The color the stable Service selects, when a cutover decides it (exclusive()). */
  private cutoverStable: Color | undefined;
  private previewReady = false;
  private readonly nowISO: string;

  constructor(private readonly input: RolloutInput) {
    this.active = input.status?.activeColor ?? "blue";
    // A first deploy, or an AIAssistant from before rollouts were tracked: what runs is stable.
    this.stableRevision = input.status?.stableRevision ?? input.observed[this.active].revision ?? input.revision;
    this.last = input.status?.lastRollout;
    this.nowISO = input.now.toISOString();
  }

  build(): RolloutPlan {
    const { input } = this;
    this.handleRollback();
    let colors: Record<Color, ColorPlan>;
    if (input.revision === this.stableRevision) {
      this.supersedeInFlight("the spec went back to the running revision");
      this.forgetAbort();
      colors = this.steady();
    } else if (this.last?.revision === input.revision && this.last.phase === "Aborted" && !benignEnds.has(this.last.reason ?? "")) {
      colors = this.steady();
    } else {
      colors = this.progress();
    }
    if (input.exclusive) colors = this.exclusive(colors);
    // A request with nothing to act on is consumed too, so a stale "promote" can't fire on a later
    // rollout; one made while the preview is still coming up waits for it.
    if (!inFlight(this.last?.phase)) for (const request of input.requests) if (!this.consumed.includes(request)) this.consume(request);
    const reason = this.last?.reason ?? "RolloutAborted";
    const aborted = this.last?.phase === "Aborted" && this.last.revision === input.revision && input.revision !== this.stableRevision && !benignEnds.has(reason);
    return {
      revision: input.revision,
      active: this.active,
      stable: this.cutoverStable ?? this.active,
      stableRevision: this.stableRevision,
      lastRollout: this.last,
      colors,
      preview: inFlight(this.last?.phase) || colors[this.preview].replicas > 0,
      consumed: this.consumed,
      events: this.events,
      waitingFor: this.waitingFor,
      previewReady: this.previewReady,
      failure: aborted
          ? {
              reason,
              message: `revision ${input.revision} ${whyNotPromoted(reason, input.settings)}; traffic stays on ${this.active} (revision ${this.stableRevision}). Change the spec to start a new rollout.`,
            }
          : undefined,
      requeueAfterMs: this.timers.length > 0 ? Math.max(0, Math.min(...this.timers)) : undefined,
    };
  }

  private get preview(): Color {
    return otherColor(this.active);
  }

  private consume(request: RolloutRequest): void {
    this.consumed.push(request);
  }

  /** Registers a timer that fires `delayMs` after `fromISO`; true when it has already fired. */
  private elapsed(fromISO: string | undefined, delayMs: number): boolean {
    const due = Date.parse(fromISO ?? this.nowISO) + delayMs - this.input.now.getTime();
    if (due <= 0) return true;
    this.timers.push(due);
    return false;
  }

  private end(phase: "Aborted" | "Completed", reason?: string): void {
    if (!this.last) return;
    this.last = { ...this.last, phase, ...(reason ? { reason } : {}), finishedAt: this.nowISO };
  }

  /** Switches straight back to the old color while it is still up after a promotion. */
  private handleRollback(): void {
    if (!this.input.requests.has("rollback")) return;
    this.consume("rollback");
    const last = this.last;
    const oldColor = this.preview;
    const oldUp = this.input.observed[oldColor].revision === last?.fromRevision && this.input.observed[oldColor].replicas > 0;
    if (last?.phase !== "Promoted" || last.fromRevision === undefined || !oldUp) {
      this.events.push({ reason: "RollbackUnavailable", message: "no promoted rollout whose old color is still up; apply the previous spec to roll back" });
      return;
    }
    this.active = oldColor;
    this.stableRevision = last.fromRevision;
    this.end("Aborted", "RolledBack");
  }

  /**
   * Back on the running revision, an aborted rollout's revision is no longer asked for: recorded as
   * superseded, the same revision applied again later (an image pushed since) starts a fresh rollout.
   */
  private forgetAbort(): void {
    if (this.last?.phase !== "Aborted" || this.last.revision === this.input.revision || benignEnds.has(this.last.reason ?? "")) return;
    this.last = { ...this.last, reason: "Superseded" };
  }

  /** A rollout in flight whose revision the spec no longer asks for ends here. */
  private supersedeInFlight(why: string): void {
    if (!inFlight(this.last?.phase)) return;
    this.end("Aborted", "Superseded");
    this.events.push({ reason: "RolloutSuperseded", message: `rollout of revision ${this.last?.revision ?? ""} stopped: ${why}` });
  }

  /** No rollout in flight: the active color runs the stable revision; the idle one winds down. */
  private steady(): Record<Color, ColorPlan> {
    const { settings, replicas, observed } = this.input;
    const idle = observed[this.preview];
    let idleReplicas = 0;
    if (this.last?.phase === "Promoted") {
      if (this.elapsed(this.last.promotedAt, seconds(settings.scaleDownDelaySeconds))) {
        this.end("Completed");
        if (idle.replicas > 0) this.events.push({ reason: "ScaledDown", message: `${this.preview} scaled to 0 after scaleDownDelaySeconds` });
      } else {
        idleReplicas = idle.replicas;
      }
    } else if (this.last?.phase === "Aborted" && !this.elapsed(this.last.finishedAt, seconds(settings.abortScaleDownDelaySeconds))) {
      idleReplicas = idle.replicas;
    }
    const activeTemplate = this.input.revision === this.stableRevision ? "desired" : "keep";
    return { [this.active]: { replicas, template: activeTemplate }, [this.preview]: { replicas: idleReplicas, template: "keep" } } as Record<Color, ColorPlan>;
  }

  /** The spec asks for a revision the active color doesn't run: roll it out on the preview color. */
  private progress(): Record<Color, ColorPlan> {
    const { input } = this;
    const { settings, replicas } = input;
    if (this.last?.revision !== input.revision || !inFlight(this.last.phase)) {
      this.supersedeInFlight(`revision ${input.revision} replaces it`);
      this.last = {
        revision: input.revision,
        fromRevision: this.stableRevision,
        mode: input.exclusive ? "Cutover" : "BlueGreen",
        phase: "Progressing",
        startedAt: this.nowISO,
      };
      this.events.push({ reason: "RolloutStarted", message: `rolling out revision ${input.revision} on ${this.preview} (${this.last.mode})` });
    }
    let last: LastRollout = this.last;
    const keepActive = { replicas, template: "keep" as const };
    const plan = (previewReplicas: number) =>
      ({ [this.active]: keepActive, [this.preview]: { replicas: previewReplicas, template: "desired" } }) as Record<Color, ColorPlan>;

    if (input.requests.has("abort")) {
      this.consume("abort");
      return this.abort("RolloutAborted");
    }

    // The preview runs previewReplicaCount until promotion is due, then the full count. A cutover's
    // preview is the one pod the volume allows, whatever previewReplicaCount says.
    let due = last.previewReadyAt !== undefined && this.promotionDue(last.previewReadyAt);
    const target = due || input.exclusive ? replicas : (settings.previewReplicaCount ?? replicas);
    if (!this.colorReady(this.preview, target)) {
      const preview = input.observed[this.preview];
      const stuck = preview.revision === input.revision && preview.deadlineExceeded;
      // The deadline is for becoming ready. Once the preview was ready, only its Deployment's own
      // deadline counts (measured from its last progress): growing to the full count at a promotion
      // hours later, or a pod briefly unready, is not a rollout that never came up.
      const late = last.previewReadyAt === undefined && this.elapsed(last.startedAt, seconds(settings.progressDeadlineSeconds));
      if (stuck || late) return this.abort("ProgressDeadlineExceeded");
      this.waitingFor = `${this.preview} to have ${String(target)} available pods of revision ${input.revision}, listed ready by the preview Service's EndpointSlices`;
      return plan(target);
    }

    this.previewReady = true;
    if (last.previewReadyAt === undefined) {
      last = this.last = { ...last, previewReadyAt: this.nowISO };
      this.events.push({ reason: "PreviewReady", message: `${this.preview} (revision ${input.revision}) is available behind the preview Service` });
      due = this.promotionDue(this.nowISO);
    }
    if (due && target === replicas) return this.promote();
    if (due) {
      this.waitingFor = `${this.preview} to scale to ${String(replicas)} before promotion`;
      return plan(replicas);
    }
    if (settings.previewTTLSeconds !== undefined && this.elapsed(last.previewReadyAt, seconds(settings.previewTTLSeconds))) {
      return this.abort("PreviewExpired");
    }
    if (settings.autoPromotion) {
      this.waitingFor = `autoPromotionSeconds (${String(settings.autoPromotionSeconds ?? 0)}) to pass`;
    } else {
      if (last.phase !== "Paused") {
        this.last = { ...last, phase: "Paused" };
        this.events.push({ reason: "RolloutPaused", message: `waiting for promotion: kubectl annotate aia <name> ${requestAnnotations.promote}=true` });
      }
      this.waitingFor = `promotion (the ${requestAnnotations.promote} annotation)`;
    }
    return plan(target);
  }

  /** A promote request, auto-promotion after its delay, or Cutover (nothing serves meanwhile, so it never waits). */
  private promotionDue(readyAt: string): boolean {
    const { input } = this;
    if (input.requests.has("promote") || input.exclusive) return true;
    return input.settings.autoPromotion && this.elapsed(readyAt, seconds(input.settings.autoPromotionSeconds ?? 0));
  }

  private promote(): Record<Color, ColorPlan> {
    const { input } = this;
    if (input.requests.has("promote")) this.consume("promote");
    const old = this.active;
    this.active = this.preview;
    this.stableRevision = input.revision;
    this.last = { ...(this.last as LastRollout), phase: "Promoted", promotedAt: this.nowISO };
    this.events.push({ reason: "Promoted", message: `the stable Service now selects ${this.active} (revision ${input.revision})` });
    this.previewReady = false;
    this.waitingFor = undefined;
    if (input.exclusive) this.end("Completed");
    // The old color keeps its pods for scaleDownDelaySeconds, for an instant rollback.
    else this.elapsed(this.nowISO, seconds(input.settings.scaleDownDelaySeconds));
    return {
      [this.active]: { replicas: input.replicas, template: "desired" },
      [old]: { replicas: input.exclusive ? 0 : input.observed[old].replicas, template: "keep" },
    } as Record<Color, ColorPlan>;
  }

  /** Traffic stays on the active color; the Degraded condition (and its Warning Event) says why. */
  private abort(reason: "RolloutAborted" | "ProgressDeadlineExceeded" | "PreviewExpired"): Record<Color, ColorPlan> {
    this.end("Aborted", reason);
    this.waitingFor = undefined;
    this.previewReady = false;
    return this.steady();
  }

  /**
   * Ready means more than Available: the Deployment controller caught up, every wanted pod of the
   * new revision is ready, and the preview Service's EndpointSlices list each of them as ready —
   * switching on pod readiness alone can send traffic to endpoints not yet programmed.
   */
  private colorReady(color: Color, count: number): boolean {
    const observed = this.input.observed[color];
    if (observed.revision !== this.input.revision || !observed.available || observed.replicas !== count) return false;
    if (count === 0) return true;
    if (observed.pods === undefined) return false;
    const live = observed.pods.filter((pod) => !pod.terminating);
    return (
      live.length >= count &&
      live.every((pod) => pod.revision === this.input.revision && pod.ready && this.input.previewEndpoints.has(pod.name))
    );
  }

  /**
   * Cutover for embedded storage: one color serves (the preview while a rollout is in flight, else
   * the active one). The assistant lets one process at a time have the SQLite volume
   * (storage/volume-lock.ts), so the new pod starts beside the old one that still serves; once its
   * container runs (waiting for the volume), the old color scales to zero and the stable Service
   * points at the new one: the gap is the old pod's drain and the new one's last steps.
   */
  private exclusive(colors: Record<Color, ColorPlan>): Record<Color, ColorPlan> {
    const serving = inFlight(this.last?.phase) ? this.preview : this.active;
    const other = otherColor(serving);
    if (!this.startedBeside(serving, colors[serving].replicas, other)) {
      this.waitingFor = `the ${serving} pod to start before the ${other} pod stops (embedded storage: the new pod takes the volume over)`;
      this.timers.push(cutoverPollMs); // pods are listed, not watched
      this.cutoverStable = other;
      return colors;
    }
    this.cutoverStable = serving;
    return { [serving]: colors[serving], [other]: { ...colors[other], replicas: 0 } } as Record<Color, ColorPlan>;
  }

  /** Whether the other color may stop: it runs nothing, or `count` pods of the serving color have started. */
  private startedBeside(serving: Color, count: number, other: Color): boolean {
    const otherPods = this.input.observed[other].pods;
    const otherRuns = otherPods ? otherPods.some((pod) => !pod.terminating) : this.input.observed[other].replicas > 0;
    const servingPods = this.input.observed[serving].pods;
    // Unlisted, the pods are not in a rollout's hands: nothing to hand over.
    if (!otherRuns || servingPods === undefined) return true;
    if (servingPods.filter((pod) => !pod.terminating && pod.running).length >= count) return true;
    // One that cannot start beside it (its volume attaches to one node at a time, its node is full)
    // starts once the old one is gone.
    return this.elapsed(inFlight(this.last?.phase) ? this.last?.startedAt : this.last?.finishedAt, handoverWaitMs);
  }
}
