import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { jitter, sleep } from "./clock.js";
import { IndexedStore, keyOf } from "./indexed-store.js";
import { ApiStatusError, HttpListerWatcher, IdleTimeoutError, ParseError, type ListerWatcher, type WatchEvent } from "./list-watch.js";
import { counterOn } from "./metrics.js";

export interface InformerOptions<T> {
  kc: k8s.KubeConfig;
  /** Names the informer in logs and metrics. */
  name: string;
  /** The collection, e.g. "/apis/aiassistant.dev/v1alpha1/aiassistants" or "/api/v1/namespaces/ns/services". */
  listPath: string;
  labelSelector?: string;
  /**
   * Hands every cached object to the update handlers again this often (the old and the new object
   * the same), from the cache and without a request: client-go's resync. Undefined: never.
   */
  resyncMs?: number;
  /** health() fails when nothing proved the cache current for this long. Default 5 min. */
  staleAfterMs?: number;
  logger: Logger;
  registry: Registry;
  /** Replaces the HTTP list/watch of `listPath`, e.g. to wrap it. */
  listerWatcher?: ListerWatcher<T>;
  /** Page size of a list. Default 500, as client-go. */
  pageSize?: number;
  /** Retry backoff after failed rounds: jittered, doubling from `initialMs` to `maxMs`. Default 800 ms to 30 s (client-go's). */
  backoff?: { initialMs: number; maxMs: number };
  /** Applied to every object before it is cached and handed to handlers (client-go's SetTransform), e.g. to drop what no one reads. */
  transform?: (object: T) => T;
  /** Files each cached object under this key (undefined: under none) for byIndex(): client-go's Indexer, with one index. */
  indexBy?: (object: T) => string | undefined;
}

type Handler<T> = (object: T) => void;
type UpdateHandler<T> = (oldObject: T, newObject: T) => void;

/** client-go's default watch timeout range: 5 to 10 minutes, random so reconnects don't line up. */
const minWatchTimeoutSeconds = 300;
/** Watches are reopened no sooner than this after the last one opened, however they ended. */
const minWatchIntervalMs = 1000;

function informerMetrics(registry: Registry) {
  return {
    watchRestarts: counterOn(registry, { name: "watch_restarts_total", help: "Watches reopened after the first", labelNames: ["informer"] }),
    relists: counterOn(registry, { name: "informer_relists_total", help: "Full lists after the first (410 Gone, parse errors)", labelNames: ["informer"] }),
    resyncs: counterOn(registry, { name: "informer_resyncs_total", help: "Cached objects handed to the update handlers again by a resync", labelNames: ["informer"] }),
    events: counterOn(registry, { name: "informer_events_total", help: "Watch events received, by type", labelNames: ["informer", "type"] }),
    parseErrors: counterOn(registry, {
      name: "informer_parse_errors_total",
      help: "Responses that could not be parsed; each forces a relist",
      labelNames: ["informer"],
    }),
  };
}

/** The bookmark a watch-list stream sends once it has sent every object there is (KEP-3157). */
function endsInitialEvents(event: WatchEvent<unknown>): boolean {
  return event.type === "BOOKMARK" && (event.object as k8s.KubernetesObject).metadata?.annotations?.["k8s.io/initial-events-end"] === "true";
}

/** A refusal of sendInitialEvents by a server without the WatchList feature, as opposed to a failure worth retrying. */
function refusesWatchList(error: unknown): boolean {
  return error instanceof ApiStatusError && error.status >= 400 && error.status < 500 && error.status !== 410 && error.status !== 429;
}

/**
 * A list-then-watch cache of one collection, written instead of client-node's makeInformer, which
 * stops silently and storms the server after reconnects (kubernetes-client/javascript #301, #364,
 * #958, #1933). One loop owns all state: it fills the cache from one watch-list stream (the
 * server's initial events, then its changes on the same connection; a paged LIST and a watch
 * where the server does not offer that), reconnects from the last resourceVersion it saw (with
 * bookmarks), lists again only on 410 Gone or a parse error, and treats silence as a dead
 * connection. A resync replays the cache to the handlers; it never lists. health() reports a
 * cache nothing has confirmed for staleAfterMs, so a stuck informer restarts the pod instead of
 * serving an old world forever.
 */
export class Informer<T extends k8s.KubernetesObject> {
  readonly name: string;
  private readonly cache: IndexedStore<T>;
  private readonly listerWatcher: ListerWatcher<T>;
  private readonly resyncMs: number | undefined;
  private readonly staleAfterMs: number;
  private readonly pageSize: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly logger: Logger;
  private readonly metrics: ReturnType<typeof informerMetrics>;
  private readonly addHandlers: Handler<T>[] = [];
  private readonly updateHandlers: UpdateHandler<T>[] = [];
  private readonly deleteHandlers: Handler<T>[] = [];
  private readonly transform: (object: T) => T;

  private resourceVersion = "";
  private synced = false;
  private relistNeeded = true;
  /** Until the server refuses a watch-list stream, the cache is (re)filled from one. */
  private watchListOffered = true;
  private lastActivity = 0;
  private readonly stopping = new AbortController();
  private resyncTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private firstSync: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.listerWatcher = options.listerWatcher ?? new HttpListerWatcher<T>(options.kc, options.listPath, options.labelSelector);
    this.resyncMs = options.resyncMs;
    this.staleAfterMs = options.staleAfterMs ?? 5 * 60_000;
    this.pageSize = options.pageSize ?? 500;
    this.backoff = options.backoff ?? { initialMs: 800, maxMs: 30_000 };
    this.transform = options.transform ?? ((object) => object);
    this.cache = new IndexedStore<T>(options.indexBy);
    this.logger = options.logger.child({ informer: options.name });
    this.metrics = informerMetrics(options.registry);
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // stop() before the first sync rejects it; a caller that never awaited start() must not crash on that.
    promise.catch(() => undefined);
    this.firstSync = { promise, resolve, reject };
  }

  onAdd(handler: Handler<T>): void {
    this.addHandlers.push(handler);
  }

  onUpdate(handler: UpdateHandler<T>): void {
    this.updateHandlers.push(handler);
  }

  /** Gets the last state known of the deleted object. */
  onDelete(handler: Handler<T>): void {
    this.deleteHandlers.push(handler);
  }

  /** Starts listing and watching; resolves once the first list is in the cache (retrying until it is). */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.firstSync.promise;
  }

  stop(): void {
    this.stopping.abort(new Error(`informer ${this.name} stopped`));
    clearTimeout(this.resyncTimer);
    this.firstSync.reject(new Error(`informer ${this.name} stopped before its first list`));
  }

  get(namespace: string, name: string): T | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** The cached objects indexBy files under `key`, without scanning the cache. */
  byIndex(key: string): T[] {
    return this.cache.byIndex(key);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Whether the cache can be trusted: listed once, and confirmed current within staleAfterMs. */
  health(): { ok: boolean; reason: string } {
    if (this.stopping.signal.aborted) return { ok: false, reason: "stopped" };
    if (!this.synced) return { ok: false, reason: "initial list not done" };
    const idleMs = Date.now() - this.lastActivity;
    if (idleMs > this.staleAfterMs) {
      return { ok: false, reason: `no watch event, bookmark or successful list for ${Math.round(idleMs / 1000)} s (limit ${this.staleAfterMs / 1000} s)` };
    }
    return { ok: true, reason: "" };
  }

  /** The loop that owns the connection: one list or watch at a time, so events never race a relist. */
  private async run(): Promise<void> {
    // A method, not the signal's property: TypeScript would keep `aborted` narrowed across awaits.
    const stopped = () => this.stopping.signal.aborted;
    const stop = this.stopping.signal;
    let failures = 0;
    let lastWatchStart = 0;
    let watches = 0;
    this.scheduleResync();
    while (!stopped()) {
      let progressed = false;
      try {
        if (this.relistNeeded) {
          if (this.synced) this.metrics.relists.inc({ informer: this.name });
          // Otherwise the watch below is the list: a watch-list stream.
          if (!this.watchListOffered) {
            await this.relist();
            progressed = true;
          }
        }
        await sleep(lastWatchStart + minWatchIntervalMs - Date.now(), stop);
        if (stopped()) break;
        if (watches++ > 0) this.metrics.watchRestarts.inc({ informer: this.name });
        lastWatchStart = Date.now();
        await this.watch(() => {
          progressed = true;
        });
        failures = 0;
        continue;
      } catch (error) {
        if (stopped()) break;
        if (error instanceof IdleTimeoutError && error.afterResponse) {
          // A quiet watch, reopened from where it was; a dead one will fail to reopen.
          this.logger.info({ err: error }, "watch silent; reopening it");
          continue;
        }
        failures = progressed ? 1 : failures + 1;
        this.onRoundFailed(error);
      }
      const delayMs = jitter(Math.min(this.backoff.initialMs * 2 ** (failures - 1), this.backoff.maxMs), 0.5);
      await sleep(delayMs, stop);
    }
    clearTimeout(this.resyncTimer);
  }

  private onRoundFailed(error: unknown): void {
    if (error instanceof ApiStatusError && error.gone) {
      this.logger.info({ resourceVersion: this.resourceVersion, err: error }, "resourceVersion expired (410 Gone); relisting");
      this.relistNeeded = true;
    } else if (error instanceof ParseError) {
      this.metrics.parseErrors.inc({ informer: this.name });
      this.logger.error({ err: error }, "unparseable response from the API server; relisting");
      this.relistNeeded = true;
    } else {
      this.logger.warn({ err: error, resourceVersion: this.resourceVersion }, "list or watch failed; retrying with backoff");
    }
  }

  private scheduleResync(): void {
    if (this.resyncMs === undefined) return;
    this.resyncTimer = setTimeout(() => {
      this.resync();
      this.scheduleResync();
    }, this.resyncMs);
    this.resyncTimer.unref();
  }

  /** The level-triggered safety net: every cached object to the handlers again, at no cost to the server. */
  private resync(): void {
    if (!this.synced) return;
    for (const object of this.cache.values()) this.emitUpdate(object, object);
    this.metrics.resyncs.inc({ informer: this.name }, this.cache.size);
  }

  /** Lists every page, then makes the cache equal to the list. */
  private async relist(): Promise<void> {
    const signal = this.stopping.signal;
    const items: T[] = [];
    let page = await this.listerWatcher.list({ limit: this.pageSize, continue: undefined, signal, idleTimeoutMs: this.idleTimeoutMs() });
    items.push(...page.items);
    while (page.continue !== undefined) {
      page = await this.listerWatcher.list({ limit: this.pageSize, continue: page.continue, signal, idleTimeoutMs: this.idleTimeoutMs() });
      items.push(...page.items);
    }

    this.replace(new Map(items.map((item) => [keyOf(item), this.transform(item)])), page.resourceVersion);
  }

  /** Makes the cache equal to a complete list of the collection, emitting the differences. */
  private replace(listed: Map<string, T>, resourceVersion: string): void {
    for (const [key, object] of listed) {
      const old = this.cache.store(key, object);
      if (old === undefined) this.emit(this.addHandlers, object);
      else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.emitUpdate(old, object);
    }
    for (const [key, old] of this.cache.entries()) {
      if (listed.has(key)) continue;
      this.cache.remove(key);
      this.emit(this.deleteHandlers, old);
    }
    this.resourceVersion = resourceVersion;
    this.relistNeeded = false;
    this.markActive();
    if (!this.synced) {
      this.synced = true;
      this.logger.info({ objects: this.cache.size, resourceVersion: this.resourceVersion }, "cache synced");
      this.firstSync.resolve();
    }
  }

  /**
   * Watches from the last resourceVersion, or, when the cache must be filled again, as a watch-list
   * stream: the objects the server sends before its initial-events-end bookmark are the complete
   * collection (and replace the cache); what follows on the same connection is the watch.
   */
  private async watch(onProgress: () => void): Promise<void> {
    let initial = this.relistNeeded ? new Map<string, T>() : undefined;
    const timeoutSeconds = Math.floor(jitter(minWatchTimeoutSeconds, 1));
    try {
      await this.listerWatcher.watch({
        // Unset with sendInitialEvents: the collection as of a consistent read, however old our last resourceVersion is.
        resourceVersion: initial ? "" : this.resourceVersion,
        sendInitialEvents: initial !== undefined,
        timeoutSeconds,
        signal: this.stopping.signal,
        idleTimeoutMs: this.idleTimeoutMs(),
        // The server accepted our resourceVersion: the cache is current as of now.
        onOpen: () => {
          if (!initial) this.markActive();
        },
        onEvent: (event) => {
          if (!initial) this.apply(event as WatchEvent<T>);
          else if (endsInitialEvents(event)) {
            this.replace(initial, (event.object as k8s.KubernetesObject).metadata?.resourceVersion ?? "");
            initial = undefined;
          } else this.collect(initial, event as WatchEvent<T>);
          onProgress();
        },
      });
    } catch (error) {
      if (!initial || !refusesWatchList(error)) throw error;
      this.refuseWatchList(error);
      return;
    }
    // A server that ignores sendInitialEvents sends the objects but never the bookmark that ends them.
    if (initial) this.refuseWatchList(new Error("the watch ended without an initial-events-end bookmark"));
  }

  private refuseWatchList(error: unknown): void {
    this.watchListOffered = false;
    this.logger.info({ err: error }, "the API server does not offer watch-list streams; listing in pages");
  }

  /** An event of a watch-list stream's initial part: the objects are gathered until the stream says they are all there. */
  private collect(initial: Map<string, T>, event: WatchEvent<T>): void {
    this.metrics.events.inc({ informer: this.name, type: event.type });
    if (event.type === "ERROR") throw new ApiStatusError(event.object.code ?? 500, event.object.message ?? "watch ERROR event");
    this.markActive();
    if (event.type === "BOOKMARK") return;
    if (event.type === "DELETED") initial.delete(keyOf(event.object));
    else initial.set(keyOf(event.object), this.transform(event.object));
  }

  private apply(event: WatchEvent<T>): void {
    this.metrics.events.inc({ informer: this.name, type: event.type });
    if (event.type === "ERROR") {
      throw new ApiStatusError(event.object.code ?? 500, event.object.message ?? "watch ERROR event");
    }
    const object = event.object;
    const resourceVersion = object.metadata?.resourceVersion;
    if (resourceVersion === undefined) throw new ParseError(`${event.type} event without metadata.resourceVersion`);
    this.markActive();
    if (event.type !== "BOOKMARK") {
      const key = keyOf(object);
      const cached = this.transform(object);
      if (event.type === "DELETED") {
        this.cache.remove(key);
        this.emit(this.deleteHandlers, cached);
      } else {
        const old = this.cache.store(key, cached);
        if (old === undefined) this.emit(this.addHandlers, cached);
        else this.emitUpdate(old, cached);
      }
    }
    this.resourceVersion = resourceVersion;
  }

  /** Silence longer than this means a dead connection; half the staleness limit leaves time to recover. */
  private idleTimeoutMs(): number {
    return this.staleAfterMs / 2;
  }

  private markActive(): void {
    this.lastActivity = Date.now();
  }

  private emit(handlers: Handler<T>[], object: T): void {
    for (const handler of handlers) {
      try {
        handler(object);
      } catch (error) {
        // A handler's bug must not tear down the watch or skip the other handlers.
        this.logger.error({ err: error, object: keyOf(object) }, "informer handler failed");
      }
    }
  }

  private emitUpdate(oldObject: T, newObject: T): void {
    for (const handler of this.updateHandlers) {
      try {
        handler(oldObject, newObject);
      } catch (error) {
        this.logger.error({ err: error, object: keyOf(newObject) }, "informer handler failed");
      }
    }
  }
}
