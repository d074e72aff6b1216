import type { Registry } from "prom-client";
import { systemClock, type Clock, type Timer } from "./clock.js";
import { counterOn, gaugeOn, histogramOn } from "./metrics.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiter.js";

export interface WorkQueueOptions {
  /** The `name` label of the workqueue_* metrics. */
  name: string;
  registry: Registry;
  rateLimiter?: RateLimiter;
  clock?: Clock;
}

/** client-go's buckets: 10 ns to 10 s, by factors of ten. */
const durationBuckets = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

/** Queues that report the gauges computed at scrape time, per registry. */
const liveQueues = new WeakMap<Registry, Set<WorkQueue>>();

function queueMetrics(registry: Registry) {
  const queuesOf = () => liveQueues.get(registry) ?? new Set<WorkQueue>();
  return {
    adds: counterOn(registry, { name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames: ["name"] }),
    retries: counterOn(registry, { name: "workqueue_retries_total", help: "Total number of retries handled by workqueue", labelNames: ["name"] }),
    queueDuration: histogramOn(registry, {
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: ["name"],
      buckets: durationBuckets,
    }),
    workDuration: histogramOn(registry, {
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes",
      labelNames: ["name"],
      buckets: durationBuckets,
    }),
    depth: gaugeOn(registry, {
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: ["name"],
      collect() {
        for (const queue of queuesOf()) this.set({ name: queue.name }, queue.depth());
      },
    }),
    longestRunning: gaugeOn(registry, {
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running",
      labelNames: ["name"],
      collect() {
        for (const queue of queuesOf()) this.set({ name: queue.name }, queue.processingSeconds().longest);
      },
    }),
    unfinishedWork: gaugeOn(registry, {
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
      labelNames: ["name"],
      collect() {
        for (const queue of queuesOf()) this.set({ name: queue.name }, queue.processingSeconds().total);
      },
    }),
  };
}

/**
 * client-go's rate-limited, delaying work queue. A key is queued at most once however often it
 * is added ("dirty"), and is never handed to two workers at once: a key added while it is being
 * processed is queued again only when `done` is called for it. Reconciles are level-triggered,
 * so collapsing adds loses nothing.
 */
export class WorkQueue {
  readonly name: string;
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  /** When each dirty key was added, for the queue duration metric. */
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly waitingForDelay = new Map<string, { readyAt: number; timer: Timer }>();
  private readonly waiters: (() => void)[] = [];
  private shuttingDown = false;
  private readonly rateLimiter: RateLimiter;
  private readonly clock: Clock;
  private readonly metrics: ReturnType<typeof queueMetrics>;
  private readonly registry: Registry;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.registry = options.registry;
    this.metrics = queueMetrics(options.registry);
    const queues = liveQueues.get(options.registry) ?? new Set<WorkQueue>();
    queues.add(this);
    liveQueues.set(options.registry, queues);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.adds.inc({ name: this.name });
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` once `ms` have passed; of several pending delays for one key the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const pending = this.waitingForDelay.get(key);
    if (pending) {
      if (pending.readyAt <= readyAt) return;
      this.clock.clearTimeout(pending.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.waitingForDelay.delete(key);
      this.add(key);
    }, ms);
    this.waitingForDelay.set(key, { readyAt, timer });
  }

  /** Adds `key` after the rate limiter's delay: use it when processing `key` failed. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.retries.inc({ name: this.name });
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** `key` was processed successfully: its next failure backs off from the start again. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key to process, waiting for one if need be; undefined once shut down and drained. */
  async get(): Promise<string | undefined> {
    while (this.queue.length === 0) {
      if (this.shuttingDown) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const key = this.queue.shift() as string;
    const now = this.clock.now();
    const addedAt = this.addedAt.get(key);
    if (addedAt !== undefined) this.metrics.queueDuration.observe({ name: this.name }, (now - addedAt) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, now);
    this.processing.add(key);
    this.dirty.delete(key);
    return key;
  }

  /** Processing `key` finished; if it was added meanwhile it goes back in the queue now. */
  done(key: string): void {
    const startedAt = this.startedAt.get(key);
    if (startedAt !== undefined) this.metrics.workDuration.observe({ name: this.name }, (this.clock.now() - startedAt) / 1000);
    this.startedAt.delete(key);
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  /**
   * Stops accepting keys and cancels pending delayed adds; `get` still hands out what is queued,
   * then returns undefined to every waiting worker.
   */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waitingForDelay.values()) this.clock.clearTimeout(timer);
    this.waitingForDelay.clear();
    for (const wake of this.waiters.splice(0)) wake();
    liveQueues.get(this.registry)?.delete(this);
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Keys ready to be handed out by `get`. */
  len(): number {
    return this.queue.length;
  }

  /** Keys waiting to be processed, those added while in process included (client-go's depth metric). */
  depth(): number {
    return this.dirty.size;
  }

  /** For the metrics: how long the keys now in process have been running. */
  processingSeconds(): { longest: number; total: number } {
    const now = this.clock.now();
    let longest = 0;
    let total = 0;
    for (const startedAt of this.startedAt.values()) {
      const seconds = (now - startedAt) / 1000;
      longest = Math.max(longest, seconds);
      total += seconds;
    }
    return { longest, total };
  }

  private push(key: string): void {
    this.queue.push(key);
    this.waiters.shift()?.();
  }
}
