import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { AIAssistant } from "../api/types.generated.js";
import { EventRecorder } from "../reconcile/events.js";
import { RetryableError } from "../reconcile/errors.js";
import type { ObjectCache } from "../reconcile/object-cache.js";
import { Reconciler } from "../reconcile/reconciler.js";
import { labelKeys, managedByValue } from "../api/labels.js";
import { Controller, FailedWithTimer } from "../runtime/controller.js";
import { HealthServer } from "../runtime/health-server.js";
import { Informer } from "../runtime/informer.js";
import { LeaderElector } from "../runtime/leader-election.js";
import { createMetricsRegistry } from "../runtime/metrics.js";
import { WorkQueue } from "../runtime/workqueue.js";
import { cacheTransform } from "./cache-transforms.js";
import type { OperatorConfig } from "./config.js";
import { aiAssistantKind, endpointSliceKind, listPath, ownedKinds, type WatchedKind } from "./watched-kinds.js";

const controllerName = "aiassistant";

/** Level-triggered: an add, an update and a delete all just mean "look at this key again". */
function onEveryChange<T extends k8s.KubernetesObject>(informer: Informer<T>, handler: (object: T) => void): void {
  informer.onAdd(handler);
  informer.onUpdate((_, object) => {
    handler(object);
  });
  informer.onDelete(handler);
}

/** The index of owned objects: "namespace/instance", from the instance label every owned object (and EndpointSlice) carries. */
function ownerKey(namespace: string, instance: string): string {
  return `${namespace}/${instance}`;
}

function ownerOf(object: k8s.KubernetesObject): string | undefined {
  const instance = object.metadata?.labels?.[labelKeys.instance];
  return instance === undefined ? undefined : ownerKey(object.metadata?.namespace ?? "", instance);
}

/** One kind's informers, one per watched namespace (or one for all), read as one cache. */
class KindCache<T extends k8s.KubernetesObject> implements ObjectCache<T> {
  constructor(readonly informers: Map<string | undefined, Informer<T>>) {}

  get(namespace: string, name: string): T | undefined {
    return this.informerFor(namespace)?.get(namespace, name);
  }

  ownedBy(namespace: string, instance: string): T[] {
    return this.informerFor(namespace)?.byIndex(ownerKey(namespace, instance)) ?? [];
  }

  private informerFor(namespace: string): Informer<T> | undefined {
    return this.informers.get(namespace) ?? this.informers.get(undefined);
  }
}

/**
 * Wires the operator: informers on AIAssistants and every owned kind, a work queue keyed by
 * "namespace/name", the reconciler behind a controller, all started only while this process
 * holds the leader Lease; /healthz, /readyz and /metrics from the start.
 */
export class Manager {
  private readonly registry = createMetricsRegistry();
  private readonly health: HealthServer;
  private readonly informers: Informer<k8s.KubernetesObject>[] = [];
  private readonly abort = new AbortController();
  private elector: LeaderElector | undefined;
  private controller: Controller | undefined;

  constructor(
    private readonly config: OperatorConfig,
    private readonly kc: k8s.KubeConfig,
    private readonly logger: Logger,
  ) {
    this.health = new HealthServer({ host: config.http.host, port: config.http.port, registry: this.registry, logger });
  }

  async start(onLostLeadership: () => void): Promise<void> {
    await this.health.listen();
    const { leaderElection } = this.config;
    if (!leaderElection.enabled) {
      await this.lead();
      return;
    }
    this.elector = new LeaderElector({
      kc: this.kc,
      namespace: leaderElection.namespace,
      name: leaderElection.name,
      identity: leaderElection.identity,
      logger: this.logger,
      registry: this.registry,
    });
    void this.elector.run({
      onStartedLeading: () => {
        this.lead().catch((error: unknown) => {
          this.logger.error({ err: error }, "could not start the controller");
          onLostLeadership();
        });
      },
      onStoppedLeading: onLostLeadership,
    });
  }

  /**
   * Only the AIAssistants resync, from the cache: that re-reconciles every one, which reads all it
   * owns; a resync of the owned kinds would just queue the same keys again.
   */
  private informersFor<T extends k8s.KubernetesObject>(kind: WatchedKind, options: { labelSelector?: string; resync: boolean }): KindCache<T> {
    const scopes: (string | undefined)[] = this.config.watchNamespaces.length > 0 ? this.config.watchNamespaces : [undefined];
    const map = new Map<string | undefined, Informer<T>>();
    for (const namespace of scopes) {
      const informer = new Informer<T>({
        kc: this.kc,
        name: namespace === undefined ? kind.kind : `${kind.kind}/${namespace}`,
        listPath: listPath(kind, namespace),
        ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
        ...(options.resync ? { resyncMs: this.config.resyncMs } : {}),
        transform: cacheTransform<T>(kind.kind),
        indexBy: ownerOf,
        staleAfterMs: this.config.staleAfterMs,
        logger: this.logger,
        registry: this.registry,
      });
      map.set(namespace, informer);
      this.informers.push(informer as unknown as Informer<k8s.KubernetesObject>);
    }
    return new KindCache(map);
  }

  /** Runs the controller: only the leader does this. */
  private async lead(): Promise<void> {
    this.logger.info({ namespaces: this.config.watchNamespaces.length > 0 ? this.config.watchNamespaces : "all" }, "starting the controller");
    const queue = new WorkQueue({ name: controllerName, registry: this.registry });
    const enqueue = (object: k8s.KubernetesObject) => {
      queue.add(`${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`);
    };
    const enqueueOwner = (object: k8s.KubernetesObject) => {
      const owner = object.metadata?.labels?.[labelKeys.instance];
      if (owner !== undefined) queue.add(`${object.metadata?.namespace ?? ""}/${owner}`);
    };

    const aiAssistants = this.informersFor<AIAssistant>(aiAssistantKind, { resync: true });
    for (const informer of aiAssistants.informers.values()) {
      onEveryChange(informer, enqueue);
    }
    const owned = new Map<string, ObjectCache>();
    const ours = `${labelKeys.managedBy}=${managedByValue}`;
    for (const kind of ownedKinds) {
      const cache = this.informersFor(kind, { labelSelector: ours, resync: false });
      for (const informer of cache.informers.values()) {
        onEveryChange(informer, enqueueOwner);
      }
      owned.set(kind.kind, cache);
    }
    const endpointSlices = this.informersFor<k8s.V1EndpointSlice>(endpointSliceKind, { labelSelector: ours, resync: false });
    for (const informer of endpointSlices.informers.values()) {
      onEveryChange(informer, enqueueOwner);
    }
    for (const informer of this.informers) {
      this.health.addHealthCheck(`informer ${informer.name}`, () => informer.health());
      this.health.addReadyCheck(`informer ${informer.name}`, () => ({ ok: informer.hasSynced(), reason: "initial list not done" }));
    }
    await Promise.all(this.informers.map((informer) => informer.start()));

    const reconciler = new Reconciler({
      kc: this.kc,
      logger: this.logger,
      events: new EventRecorder(this.kc, this.logger, this.config.leaderElection.identity),
      aiAssistants,
      owned,
      endpointSlices,
      monitoringDiscoveryMs: this.config.monitoringDiscoveryMs,
    });
    this.controller = new Controller({
      name: controllerName,
      queue,
      workers: this.config.workers,
      registry: this.registry,
      logger: this.logger,
      reconcile: async (key) => {
        try {
          return await reconciler.reconcile(key);
        } catch (error) {
          const failure = error instanceof FailedWithTimer ? error.failure : error;
          if (failure instanceof RetryableError) this.logger.info({ key, reason: failure.failure.reason }, "retrying with backoff");
          throw error;
        }
      },
    });
    this.controller.start(this.abort.signal);
  }

  /** Graceful stop: finish in-flight reconciles, release the Lease, close the server. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.controller?.stopped();
    for (const informer of this.informers) informer.stop();
    await this.elector?.stop();
    await this.health.close();
  }
}
