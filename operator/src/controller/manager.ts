import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { AIAssistant } from "../api/types.generated.js";
import { EventRecorder } from "../reconcile/events.js";
import { Reconciler, RetryableError, type ObjectCache } from "../reconcile/reconciler.js";
import { labelKeys, managedByValue } from "../resources/metadata.js";
import { Controller } from "../runtime/controller.js";
import { HealthServer } from "../runtime/health-server.js";
import { Informer } from "../runtime/informer.js";
import { LeaderElector } from "../runtime/leader-election.js";
import { createMetricsRegistry } from "../runtime/metrics.js";
import { WorkQueue } from "../runtime/workqueue.js";
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

/**
 * Server-side apply gives every object managedFields often larger than the object itself; the
 * operator never reads them from its caches, so they are not kept (client-go's usual transform).
 */
function withoutManagedFields<T extends k8s.KubernetesObject>(object: T): T {
  if (object.metadata?.managedFields) delete object.metadata.managedFields;
  return object;
}

/** One kind's informers, one per watched namespace (or one for all), read as one cache. */
class KindCache<T extends k8s.KubernetesObject> implements ObjectCache<T> {
  constructor(readonly informers: Map<string | undefined, Informer<T>>) {}

  get(namespace: string, name: string): T | undefined {
    return (this.informers.get(namespace) ?? this.informers.get(undefined))?.get(namespace, name);
  }

  list(namespace: string): T[] {
    return (this.informers.get(namespace) ?? this.informers.get(undefined))?.list().filter((o) => o.metadata?.namespace === namespace) ?? [];
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

  private informersFor<T extends k8s.KubernetesObject>(kind: WatchedKind, labelSelector?: string): KindCache<T> {
    const scopes: (string | undefined)[] = this.config.watchNamespaces.length > 0 ? this.config.watchNamespaces : [undefined];
    const map = new Map<string | undefined, Informer<T>>();
    for (const namespace of scopes) {
      const informer = new Informer<T>({
        kc: this.kc,
        name: namespace === undefined ? kind.kind : `${kind.kind}/${namespace}`,
        listPath: listPath(kind, namespace),
        ...(labelSelector === undefined ? {} : { labelSelector }),
        resyncMs: this.config.resyncMs,
        transform: withoutManagedFields,
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

    const aiAssistants = this.informersFor<AIAssistant>(aiAssistantKind);
    for (const informer of aiAssistants.informers.values()) {
      onEveryChange(informer, enqueue);
    }
    const owned = new Map<string, ObjectCache>();
    const ours = `${labelKeys.managedBy}=${managedByValue}`;
    for (const kind of ownedKinds) {
      const cache = this.informersFor(kind, ours);
      for (const informer of cache.informers.values()) {
        onEveryChange(informer, enqueueOwner);
      }
      owned.set(kind.kind, cache);
    }
    const endpointSlices = this.informersFor<k8s.V1EndpointSlice>(endpointSliceKind, ours);
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
          if (error instanceof RetryableError) this.logger.info({ key, reason: error.failure.reason }, "retrying with backoff");
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
