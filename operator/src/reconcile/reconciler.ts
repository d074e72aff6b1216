import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import "./wire-format.js";
import { group, plural, version } from "../api/schema.js";
import type { AIAssistant, AIAssistantStatus } from "../api/types.generated.js";
import { validateAIAssistantSpec } from "../api/validate.js";
import type { ReconcileOutcome } from "../runtime/controller.js";
import { referencedObjects, sha256 } from "../resources/assistant-config.js";
import { configComponent } from "../resources/config-map.js";
import { desiredState, render, type ObjectRef } from "../resources/desired.js";
import { otherColor, type Color } from "../api/color.js";
import { annotationKeys, labelKeys, managedByValue, requestAnnotations, type RolloutRequest } from "../api/labels.js";
import { fieldManager } from "../resources/metadata.js";
import { monitoringAPIVersion, prometheusRule, serviceMonitor } from "../resources/monitoring.js";
import { previewServiceName } from "../resources/network.js";
import { deploymentName } from "../resources/workload.js";
import { observeColor, readyEndpointPods } from "../rollout/observe.js";
import { planRollout, type RolloutPlan } from "../rollout/plan.js";
import type { EventRecorder } from "./events.js";
import { mergePatch } from "./merge-patch.js";
import { firstDifference, isDerivative } from "./semantic.js";
import { MonitoringAPI } from "./monitoring-api.js";
import { computeStatus, type ConditionInput, type Failure } from "./status.js";

/** Read access to the informer caches the reconciler decides from. */
export interface ObjectCache<T extends k8s.KubernetesObject = k8s.KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  /** The objects of `namespace` labelled as the AIAssistant `instance`'s, from an index: a reconcile reads only its own. */
  ownedBy(namespace: string, instance: string): T[];
}

const colors = ["blue", "green"] as const;

interface MonitoringOutcome {
  /** Undefined when this pass didn't get as far: the status keeps the condition it had. */
  condition: ConditionInput | undefined;
  requeueAfterMs?: number;
}

export interface ReconcilerOptions {
  kc: k8s.KubeConfig;
  logger: Logger;
  events: EventRecorder;
  aiAssistants: ObjectCache<AIAssistant>;
  /** One cache per owned kind, keyed by kind ("Deployment", "Service", …). */
  owned: ReadonlyMap<string, ObjectCache>;
  /** The EndpointSlices of our Services (they carry the Services' labels). */
  endpointSlices: ObjectCache<k8s.V1EndpointSlice>;
  /** How long the answer to "are the Prometheus Operator's CRDs installed?" is kept. */
  monitoringDiscoveryMs: number;
  now?: () => Date;
}

interface Change {
  verb: "Created" | "Updated" | "Deleted";
  kind: string;
  name: string;
  /** What the API server returned for an apply. */
  result?: k8s.KubernetesObject;
}

/** Retry with backoff: the world (a missing Secret, a rejected apply) has to change first. */
export class RetryableError extends Error {
  constructor(readonly failure: Failure) {
    super(`${failure.reason}: ${failure.message}`);
  }
}

/**
 * Level-triggered reconcile of one AIAssistant: compute the desired objects from the spec, apply
 * only those the cluster doesn't already hold (server-side apply, one field manager), delete what
 * the spec no longer asks for, then write the status if — and only if — it changed. Everything it
 * decides from is in the cluster, so a restarted operator picks up where the last one stopped.
 */
export class Reconciler {
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly now: () => Date;
  private readonly monitoringAPI: MonitoringAPI;

  constructor(private readonly options: ReconcilerOptions) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(options.kc);
    this.core = options.kc.makeApiClient(k8s.CoreV1Api);
    this.custom = options.kc.makeApiClient(k8s.CustomObjectsApi);
    this.now = options.now ?? (() => new Date());
    this.monitoringAPI = new MonitoringAPI(this.custom, options.monitoringDiscoveryMs);
  }

  async reconcile(key: string): Promise<ReconcileOutcome> {
    const [namespace = "", name = ""] = key.split("/");
    const aia = this.options.aiAssistants.get(namespace, name);
    // Deleted: ownerReferences let the garbage collector remove what we own; the data PVC stays
    // unless storage.deletePolicy is Delete. Nothing needs a finalizer.
    if (!aia || aia.metadata.deletionTimestamp) return undefined;
    const log = this.options.logger.child({ namespace, name, generation: aia.metadata.generation });

    const validation = validateAIAssistantSpec(aia.spec);
    if (!validation.ok) {
      await this.writeStatus(aia, undefined, { reason: "InvalidSpec", message: validation.errors.join("; ") }, log);
      return undefined;
    }
    const current: AIAssistant = { ...aia, spec: validation.spec };
    const deployments = { blue: this.cachedDeployment(current, "blue"), green: this.cachedDeployment(current, "green") };

    // Not retried: only a changed spec can fix it, and that requeues by itself.
    const foreign = crossNamespaceReference(current);
    if (foreign) {
      await this.writeStatus(current, undefined, foreign, log, deployments);
      return undefined;
    }
    const missing = await this.missingReferences(current);
    if (missing) {
      await this.writeStatus(current, undefined, missing, log, deployments);
      throw new RetryableError(missing);
    }

    let rendered: ReturnType<typeof render>;
    try {
      rendered = render(current);
    } catch (error) {
      // What the schema lets through but can't be built (a URL whose port is out of range): only a
      // changed spec fixes it, and that requeues by itself.
      await this.writeStatus(current, undefined, { reason: "InvalidSpec", message: errorMessage(error) }, log, deployments);
      return undefined;
    }
    const plan = await this.plan(current, rendered.pod.revision, deployments);
    const desired = desiredState(current, { active: plan.active, stable: plan.stable, colors: plan.colors, observed: deployments, preview: plan.preview }, rendered);
    const changes: Change[] = [];
    try {
      for (const wave of desired.waves) await this.applyWave(wave, changes, deployments, log);
    } catch (error) {
      // Every failure shows in the status; the queue retries it with backoff either way. The rollout
      // state stays as it was: a plan whose serving objects were not all applied must not be recorded
      // as done (a promotion saved while the stable Service still selects the old color would scale
      // that color down under it). The next pass plans again from the same status.
      await this.writeStatus(current, undefined, failureOf(error), log, deployments);
      await this.recordChanges(current, changes);
      throw error;
    }
    // The step is taken: from here a failure is reported alongside it, never instead of it.
    let extrasError: Error | undefined;
    let monitoring: MonitoringOutcome = { condition: undefined };
    try {
      await this.applyWave(desired.extras, changes, deployments, log);
      for (const ref of [...desired.remove, ...this.unusedConfigMaps(current, desired.rendered.configMapName, deployments)]) {
        if (await this.removeIfOwned(current, ref, log)) changes.push({ verb: "Deleted", kind: ref.kind, name: ref.name });
      }
      monitoring = await this.reconcileMonitoring(current, changes, log);
    } catch (error) {
      extrasError = error instanceof Error ? error : new Error(String(error));
    } finally {
      await this.recordChanges(current, changes);
    }
    const extrasFailure = extrasError === undefined ? undefined : failureOf(extrasError);
    const statusWritten = await this.writeStatus(current, plan, undefined, log, deployments, monitoring.condition, extrasFailure);
    await this.consumeRequests(current, plan.consumed, log);
    for (const event of plan.events) {
      log.info({ reason: event.reason, rollout: plan.lastRollout?.revision }, event.message);
      await this.options.events.record(current, "Normal", event.reason, event.message);
    }
    if (extrasError !== undefined) throw extrasError;
    const timers = [plan.requeueAfterMs, monitoring.requeueAfterMs].filter((ms) => ms !== undefined);
    const requeueAfterMs = timers.length > 0 ? Math.min(...timers) : undefined;
    log.debug({ applied: changes.length, statusWritten, requeueAfterMs }, "reconciled");
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /** Applies a wave's objects at once; a Deployment the API server returned replaces the cached one. */
  private async applyWave(
    wave: readonly k8s.KubernetesObject[],
    changes: Change[],
    deployments: Record<Color, k8s.V1Deployment | undefined>,
    log: Logger,
  ): Promise<void> {
    const results = await Promise.all(wave.map((object) => this.applyIfChanged(object, log)));
    for (const change of results) {
      if (!change) continue;
      changes.push(change);
      if (change.kind === "Deployment") {
        const color = change.result?.metadata?.labels?.[labelKeys.color] as Color | undefined;
        if (color) deployments[color] = change.result;
      }
    }
  }

  /** Observes both colors (listing pods only while a rollout needs them) and runs the state machine. */
  private async plan(aia: AIAssistant, revision: string, deployments: Record<Color, k8s.V1Deployment | undefined>): Promise<RolloutPlan> {
    const namespace = aia.metadata.namespace ?? "";
    const status = aia.status;
    const exclusive = aia.spec.storage.mode === "embedded";
    const inFlight = status?.lastRollout?.phase === "Progressing" || status?.lastRollout?.phase === "Paused";
    const rollingOut = status?.stableRevision !== undefined && status.stableRevision !== revision;
    // In a cutover a color may start only once the other color's pods are gone: list them when
    // a color starts and the other one has a Deployment at all.
    const active = status?.activeColor ?? "blue";
    const startingUp = (deployments[active]?.spec?.replicas ?? 0) < aia.spec.replicas && deployments[otherColor(active)] !== undefined;
    const pods = inFlight || rollingOut || (exclusive && startingUp) ? await this.instancePods(aia) : undefined;
    // The slices of the preview Service that exists now: one deleted with an earlier rollout leaves
    // slices behind until the garbage collector gets to them, and they may still list pods.
    const preview = this.options.owned.get("Service")?.get(namespace, previewServiceName(aia));
    const slices = this.options.endpointSlices
      .ownedBy(namespace, aia.metadata.name ?? "")
      .filter((slice) => preview !== undefined && slice.metadata?.ownerReferences?.some((owner) => owner.uid === preview.metadata?.uid));
    const annotations = aia.metadata.annotations ?? {};
    const requests = new Set(
      (Object.keys(requestAnnotations) as RolloutRequest[]).filter((request) => annotations[requestAnnotations[request]] === "true"),
    );
    return planRollout({
      revision,
      replicas: aia.spec.replicas,
      settings: aia.spec.rollout,
      exclusive,
      status,
      requests,
      observed: { blue: observeColor("blue", deployments.blue, pods), green: observeColor("green", deployments.green, pods) },
      previewEndpoints: readyEndpointPods(slices),
      now: this.now(),
    });
  }

  /** Pods are listed, not watched, and only while a rollout runs or a color starts: one call per reconcile then. */
  private async instancePods(aia: AIAssistant): Promise<k8s.V1Pod[]> {
    const labelSelector = `${labelKeys.name}=ai-assistant,${labelKeys.instance}=${aia.metadata.name ?? ""}`;
    const list = await this.core.listNamespacedPod({ namespace: aia.metadata.namespace ?? "", labelSelector });
    return list.items;
  }

  /** Config revisions no color runs any more (and that the spec no longer renders). */
  private unusedConfigMaps(aia: AIAssistant, desiredName: string, deployments: Record<Color, k8s.V1Deployment | undefined>): ObjectRef[] {
    const namespace = aia.metadata.namespace ?? "";
    const used = new Set([desiredName]);
    for (const color of colors) {
      for (const volume of deployments[color]?.spec?.template.spec?.volumes ?? []) if (volume.configMap?.name) used.add(volume.configMap.name);
    }
    return (this.options.owned.get("ConfigMap")?.ownedBy(namespace, aia.metadata.name ?? "") ?? [])
      .filter((cm) => cm.metadata?.labels?.[labelKeys.component] === configComponent)
      .filter((cm) => !used.has(cm.metadata?.name ?? ""))
      .map((cm) => ({ apiVersion: "v1", kind: "ConfigMap", namespace, name: cm.metadata?.name ?? "" }));
  }

  /** Removes the request annotations the rollout acted on, so each acts once. */
  private async consumeRequests(aia: AIAssistant, consumed: RolloutRequest[], log: Logger): Promise<void> {
    if (consumed.length === 0) return;
    const annotations = Object.fromEntries(consumed.map((request) => [requestAnnotations[request], null]));
    await this.custom.patchNamespacedCustomObject(
      { group, version, plural, namespace: aia.metadata.namespace ?? "", name: aia.metadata.name ?? "", body: { metadata: { annotations } }, fieldManager },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    log.info({ requests: consumed }, "removed the rollout request annotations it acted on");
  }

  /**
   * The ServiceMonitor and PrometheusRule, when monitoring is on and the Prometheus Operator's
   * CRDs are installed. They are read with a GET, not watched: an informer on a kind that may not
   * exist would fail until it does. Turned off, what was applied is deleted.
   */
  private async reconcileMonitoring(aia: AIAssistant, changes: Change[], log: Logger): Promise<MonitoringOutcome> {
    const enabled = aia.spec.monitoring.enabled;
    const applied = aia.status?.conditions?.find((c) => c.type === "Monitoring")?.reason === "Applied";
    const disabled: ConditionInput = { type: "Monitoring", status: "False", reason: "Disabled", message: "spec.monitoring.enabled is false" };
    if (!enabled && !applied) return { condition: disabled };
    if (!(await this.monitoringAPI.available())) {
      if (!enabled) return { condition: disabled };
      return {
        condition: {
          type: "Monitoring",
          status: "False",
          reason: "CRDsNotInstalled",
          message: "the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs are not installed; they are created once it is",
        },
        requeueAfterMs: this.monitoringAPI.ttlMs,
      };
    }
    const namespace = aia.metadata.namespace ?? "";
    const name = aia.metadata.name ?? "";
    for (const kind of ["ServiceMonitor", "PrometheusRule"] as const) {
      const ref = { apiVersion: monitoringAPIVersion, kind, metadata: { name, namespace } };
      const observed = await this.readIfExists(ref);
      const desired = kind === "ServiceMonitor" ? serviceMonitor(aia) : prometheusRule(aia);
      if (desired) {
        const change = await this.applyIfChanged(desired, log, observed);
        if (change) changes.push(change);
      } else if (observed?.metadata?.ownerReferences?.some((o) => o.uid === aia.metadata.uid)) {
        await this.objects.delete(ref);
        changes.push({ verb: "Deleted", kind, name });
      }
    }
    if (!enabled) return { condition: disabled };
    return { condition: { type: "Monitoring", status: "True", reason: "Applied", message: "ServiceMonitor and PrometheusRule are in place" } };
  }

  private async readIfExists(ref: k8s.KubernetesObject & { metadata: { name: string; namespace: string } }): Promise<k8s.KubernetesObject | undefined> {
    try {
      return await this.objects.read(ref);
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  /** One Event per kind of change in a pass (not one per object), to keep writes per pass low. */
  private async recordChanges(aia: AIAssistant, changes: Change[]): Promise<void> {
    for (const verb of ["Created", "Updated", "Deleted"] as const) {
      const objects = changes.filter((c) => c.verb === verb).map((c) => `${c.kind} ${c.name}`);
      if (objects.length > 0) await this.options.events.record(aia, "Normal", verb, `${verb} ${objects.join(", ")}`);
    }
  }

  private cachedDeployment(aia: AIAssistant, color: Color): k8s.V1Deployment | undefined {
    return this.options.owned.get("Deployment")?.get(aia.metadata.namespace ?? "", deploymentName(aia, color));
  }

  /** Applies `object` unless the cluster already holds exactly what we would apply. */
  private async applyIfChanged(
    object: k8s.KubernetesObject,
    log: Logger,
    observed = this.options.owned.get(object.kind ?? "")?.get(object.metadata?.namespace ?? "", object.metadata?.name ?? ""),
  ): Promise<Change | undefined> {
    const meta = object.metadata ?? {};
    const hash = sha256(JSON.stringify(object)).slice(0, 16);
    meta.annotations = { ...meta.annotations, [annotationKeys.appliedHash]: hash };
    // The hash catches fields we stopped setting; the deep comparison catches drift by others.
    // Objects from a list carry no apiVersion/kind; the cache slot already says what they are.
    const drift = observed && firstDifference({ ...object, apiVersion: undefined, kind: undefined }, observed);
    if (observed && drift === undefined) return undefined;
    if (drift !== undefined) log.debug({ kind: object.kind, object: meta.name, field: drift }, "object differs from the desired state");
    try {
      const result = await this.objects.patch(object, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply);
      const verb = observed ? "Updated" : "Created";
      log.info({ kind: object.kind, object: meta.name }, `${verb.toLowerCase()} ${object.kind ?? ""}`);
      return { verb, kind: object.kind ?? "", name: meta.name ?? "", result };
    } catch (error) {
      // Server-side apply answers 500 "failed to create typed patch object" for a value of the wrong type.
      if (error instanceof k8s.ApiException && (error.code === 422 || error.code === 400 || /failed to create typed patch object/.test(apiMessage(error)))) {
        throw new RetryableError({ reason: "ApplyRejected", message: `${object.kind ?? ""} ${meta.name ?? ""}: ${apiMessage(error)}` });
      }
      throw error;
    }
  }

  /** Deletes an optional object the spec dropped, if it is ours; true when it deleted one. */
  private async removeIfOwned(aia: AIAssistant, ref: ObjectRef, log: Logger): Promise<boolean> {
    const observed = this.options.owned.get(ref.kind)?.get(ref.namespace, ref.name);
    const ours =
      observed?.metadata?.labels?.[labelKeys.managedBy] === managedByValue &&
      observed.metadata.ownerReferences?.some((o) => o.uid === aia.metadata.uid);
    if (!ours) return false;
    try {
      await this.objects.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } });
      log.info({ kind: ref.kind, object: ref.name }, `deleted ${ref.kind}`);
      return true;
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return false;
      throw error;
    }
  }

  /** The first referenced Secret/ConfigMap (or key) that does not exist, as a failure. */
  private async missingReferences(aia: AIAssistant): Promise<Failure | undefined> {
    const namespace = aia.metadata.namespace ?? "";
    for (const ref of referencedObjects(aia)) {
      try {
        const object =
          ref.kind === "Secret"
            ? await this.core.readNamespacedSecret({ name: ref.name, namespace })
            : await this.core.readNamespacedConfigMap({ name: ref.name, namespace });
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

  /** Writes the status subresource when it differs from what the object already says. */
  private async writeStatus(
    aia: AIAssistant,
    plan: RolloutPlan | undefined,
    failure: Failure | undefined,
    log: Logger,
    deployments: Record<Color, k8s.V1Deployment | undefined> = { blue: undefined, green: undefined },
    monitoring?: ConditionInput,
    extrasFailure?: Failure,
  ): Promise<boolean> {
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
      await this.options.events.record(aia, "Warning", degraded.reason, degraded.message);
    }
    return true;
  }
}

function failureOf(error: unknown): Failure {
  return error instanceof RetryableError ? error.failure : { reason: "ApplyFailed", message: errorMessage(error) };
}

/** A Secret reference into another namespace: refused, so one tenant can never use another's Secrets. */
function crossNamespaceReference(aia: AIAssistant): Failure | undefined {
  const own = aia.metadata.namespace ?? "";
  const ref = referencedObjects(aia).find((r) => r.namespace !== undefined && r.namespace !== own);
  if (!ref) return undefined;
  return {
    reason: "CrossNamespaceReference",
    message: `${ref.field}: ${ref.kind} ${ref.namespace ?? ""}/${ref.name} is in another namespace; an AIAssistant may only use ${ref.kind}s in its own namespace (${own})`,
  };
}

function sameStatus(before: AIAssistantStatus | undefined, after: AIAssistantStatus): boolean {
  return before !== undefined && isDerivative(after, before) && isDerivative(before, after);
}

function errorMessage(error: unknown): string {
  if (error instanceof k8s.ApiException) return `HTTP ${error.code}: ${apiMessage(error)}`;
  return error instanceof Error ? error.message : String(error);
}

function apiMessage(error: k8s.ApiException<unknown>): string {
  try {
    const body: unknown = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
    return (body as { message?: string }).message ?? String(error.body);
  } catch {
    return String(error.body);
  }
}
