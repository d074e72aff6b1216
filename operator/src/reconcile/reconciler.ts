import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import "./wire-format.js";
import { colors, type Color } from "../api/color.js";
import { labelKeys, requestAnnotations, type RolloutRequest } from "../api/labels.js";
import { group, plural, version } from "../api/schema.js";
import type { AIAssistant } from "../api/types.generated.js";
import { validateAIAssistantSpec } from "../api/validate.js";
import { FailedWithTimer, type ReconcileOutcome } from "../runtime/controller.js";
import { configComponent } from "../resources/config-map.js";
import { desiredState, render, type ObjectRef } from "../resources/desired.js";
import { fieldManager } from "../resources/metadata.js";
import { previewServiceName } from "../resources/network.js";
import { unreachableCpuTarget } from "../resources/scaling.js";
import { deploymentName } from "../resources/workload.js";
import { observeColor, readyEndpointPods } from "../rollout/observe.js";
import { planRollout, type RolloutPlan } from "../rollout/plan.js";
import { Applier, type Change } from "./apply.js";
import { errorMessage, failureOf, RetryableError } from "./errors.js";
import type { EventRecorder } from "./events.js";
import { reconcileMonitoring, type MonitoringOutcome } from "./monitoring.js";
import { MonitoringAPI } from "./monitoring-api.js";
import type { ObjectCache } from "./object-cache.js";
import { crossNamespaceReference, missingReference } from "./references.js";
import { StatusWriter } from "./status.js";

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

/**
 * Level-triggered reconcile of one AIAssistant: compute the desired objects from the spec, apply
 * only those the cluster doesn't already hold (server-side apply, one field manager), delete what
 * the spec no longer asks for, then write the status if — and only if — it changed. Everything it
 * decides from is in the cluster, so a restarted operator picks up where the last one stopped.
 */
export class Reconciler {
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;
  private readonly now: () => Date;
  private readonly monitoringAPI: MonitoringAPI;
  private readonly applier: Applier;
  private readonly status: StatusWriter;

  constructor(private readonly options: ReconcilerOptions) {
    this.core = options.kc.makeApiClient(k8s.CoreV1Api);
    this.custom = options.kc.makeApiClient(k8s.CustomObjectsApi);
    this.now = options.now ?? (() => new Date());
    this.monitoringAPI = new MonitoringAPI(this.custom, options.monitoringDiscoveryMs);
    this.applier = new Applier(options.kc, options.owned);
    this.status = new StatusWriter(this.custom, options.events, this.now);
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
      await this.status.write({ aia, failure: { reason: "InvalidSpec", message: validation.errors.join("; ") }, log });
      return undefined;
    }
    const current: AIAssistant = { ...aia, spec: validation.spec };
    const deployments = { blue: this.cachedDeployment(current, "blue"), green: this.cachedDeployment(current, "green") };

    // Not retried: only a changed spec can fix it, and that requeues by itself.
    const foreign = crossNamespaceReference(current);
    if (foreign) {
      await this.status.write({ aia: current, failure: foreign, deployments, log });
      return undefined;
    }
    const missing = await missingReference(this.core, current);
    if (missing) {
      await this.status.write({ aia: current, failure: missing, deployments, log });
      throw new RetryableError(missing);
    }

    let rendered: ReturnType<typeof render>;
    try {
      rendered = render(current);
    } catch (error) {
      // What the schema lets through but can't be built (a URL whose port is out of range): only a
      // changed spec fixes it, and that requeues by itself.
      await this.status.write({ aia: current, failure: { reason: "InvalidSpec", message: errorMessage(error) }, deployments, log });
      return undefined;
    }
    const plan = await this.plan(current, rendered.pod.revision, deployments);
    const desired = desiredState(current, { active: plan.active, stable: plan.stable, colors: plan.colors, observed: deployments, preview: plan.preview }, rendered);
    const changes: Change[] = [];
    try {
      for (const wave of desired.waves) await this.applier.applyWave(wave, changes, deployments, log);
    } catch (error) {
      // Every failure shows in the status; the queue retries it with backoff either way. The rollout
      // state stays as it was: a plan whose serving objects were not all applied must not be recorded
      // as done (a promotion saved while the stable Service still selects the old color would scale
      // that color down under it). The next pass plans again from the same status.
      await this.status.write({ aia: current, failure: failureOf(error), deployments, log });
      await this.options.events.recordChanges(current, changes);
      throw error;
    }
    // The step is taken: from here a failure is reported alongside it, never instead of it.
    let extrasError: Error | undefined;
    let monitoring: MonitoringOutcome = { condition: undefined };
    try {
      await this.applier.applyWave(desired.extras, changes, deployments, log);
      for (const ref of [...desired.remove, ...this.unusedConfigMaps(current, desired.rendered.configMapName, deployments)]) {
        if (await this.applier.removeIfOwned(current, ref, log)) changes.push({ verb: "Deleted", kind: ref.kind, name: ref.name });
      }
      monitoring = await reconcileMonitoring(current, this.monitoringAPI, this.applier, changes, log);
    } catch (error) {
      extrasError = error instanceof Error ? error : new Error(String(error));
    } finally {
      await this.options.events.recordChanges(current, changes);
      await this.warnOfUnreachableCpuTarget(current, changes, log);
    }
    const extrasFailure = extrasError === undefined ? undefined : failureOf(extrasError);
    const statusWritten = await this.status.write({ aia: current, plan, deployments, monitoring: monitoring.condition, extrasFailure, log });
    await this.consumeRequests(current, plan.consumed, log);
    for (const event of plan.events) {
      log.info({ reason: event.reason, rollout: plan.lastRollout?.revision }, event.message);
      await this.options.events.record(current, "Normal", event.reason, event.message);
    }
    const timers = [plan.requeueAfterMs, monitoring.requeueAfterMs].filter((ms) => ms !== undefined);
    const requeueAfterMs = timers.length > 0 ? Math.min(...timers) : undefined;
    if (extrasError !== undefined) throw requeueAfterMs === undefined ? extrasError : new FailedWithTimer(extrasError, requeueAfterMs);
    log.debug({ applied: changes.length, statusWritten, requeueAfterMs }, "reconciled");
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /** Observes both colors (listing pods only while a rollout needs them) and runs the state machine. */
  private async plan(aia: AIAssistant, revision: string, deployments: Record<Color, k8s.V1Deployment | undefined>): Promise<RolloutPlan> {
    const namespace = aia.metadata.namespace ?? "";
    const status = aia.status;
    const exclusive = aia.spec.storage.mode === "embedded";
    const inFlight = status?.lastRollout?.phase === "Progressing" || status?.lastRollout?.phase === "Paused";
    const rollingOut = status?.stableRevision !== undefined && status.stableRevision !== revision;
    const pods = inFlight || rollingOut ? await this.instancePods(aia) : undefined;
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

  /**
   * A Warning that an explicit CPU target lets pods saturate first: when the HPA or a Deployment
   * (whose pods carry the CPU request) was applied, not on every pass.
   */
  private async warnOfUnreachableCpuTarget(aia: AIAssistant, changes: readonly Change[], log: Logger): Promise<void> {
    const sized = changes.some((change) => (change.kind === "HorizontalPodAutoscaler" || change.kind === "Deployment") && change.verb !== "Deleted");
    if (!sized) return;
    const warning = unreachableCpuTarget(aia);
    if (warning === undefined) return;
    log.warn(warning);
    await this.options.events.record(aia, "Warning", "AutoscalingTargetUnreachable", warning);
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

  private cachedDeployment(aia: AIAssistant, color: Color): k8s.V1Deployment | undefined {
    return this.options.owned.get("Deployment")?.get(aia.metadata.namespace ?? "", deploymentName(aia, color));
  }
}
