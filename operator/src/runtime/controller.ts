import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { reconcileMetrics, reconcileResults, type ReconcileResult } from "./metrics.js";
import type { WorkQueue } from "./workqueue.js";

/** What a reconcile asks for besides success: to look again after a while even if nothing changes. */
export type ReconcileOutcome = { requeueAfterMs?: number } | undefined;

/**
 * A reconcile that failed after taking a step with a timer of its own (a rollout's scale-down
 * delay): the key is retried with backoff and also comes back when the timer is due, whichever is
 * first. Without it a backoff grown by repeated failures of one side object would hold up the step.
 */
export class FailedWithTimer extends Error {
  constructor(
    readonly failure: Error,
    readonly requeueAfterMs: number,
  ) {
    super(failure.message, { cause: failure });
  }
}

export interface ControllerOptions {
  /** The `controller` label of the metrics and logs. */
  name: string;
  queue: WorkQueue;
  /** How many keys are reconciled at once; the queue keeps any one key to one worker. */
  workers: number;
  /** Reconciles the object named by `key` ("namespace/name"); throwing retries it with backoff (see FailedWithTimer). */
  reconcile: ((key: string) => Promise<void>) | ((key: string) => Promise<ReconcileOutcome>);
  logger: Logger;
  registry: Registry;
}

/**
 * controller-runtime's worker loop, with no knowledge of any kind: workers take keys from the
 * queue, reconcile them, and decide how the key comes back — forgotten on success (plus a timed
 * requeue if asked), rate-limited on error.
 */
export class Controller {
  private readonly metrics: ReturnType<typeof reconcileMetrics>;
  private workers: Promise<void>[] = [];

  constructor(private readonly options: ControllerOptions) {
    this.metrics = reconcileMetrics(options.registry);
    // controller-runtime exposes every result at zero, so rate() works from the first scrape.
    for (const result of reconcileResults) this.metrics.total.inc({ controller: options.name, result }, 0);
    this.metrics.errors.inc({ controller: options.name }, 0);
    this.metrics.activeWorkers.set({ controller: options.name }, 0);
    this.metrics.maxConcurrentReconciles.set({ controller: options.name }, options.workers);
  }

  /** Starts the workers; aborting `signal` shuts the queue down and lets in-flight reconciles finish. */
  start(signal: AbortSignal): void {
    const { queue } = this.options;
    if (signal.aborted) queue.shutDown();
    else
      signal.addEventListener(
        "abort",
        () => {
          queue.shutDown();
        },
        { once: true },
      );
    this.options.logger.info({ controller: this.options.name, workers: this.options.workers }, "starting workers");
    this.workers = Array.from({ length: this.options.workers }, () => this.work(signal));
  }

  /** Resolves when every worker has returned, i.e. after `signal` aborted and in-flight reconciles ended. */
  async stopped(): Promise<void> {
    await Promise.all(this.workers);
  }

  private async work(signal: AbortSignal): Promise<void> {
    const { queue } = this.options;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      // After a stop the queue still hands out what it holds; a stopping controller starts nothing new.
      if (signal.aborted) {
        queue.done(key);
        return;
      }
      try {
        await this.reconcileOne(key);
      } finally {
        queue.done(key);
      }
    }
  }

  private async reconcileOne(key: string): Promise<void> {
    const { name: controller, queue, logger } = this.options;
    this.metrics.activeWorkers.inc({ controller });
    const endTimer = this.metrics.time.startTimer({ controller });
    let result: ReconcileResult;
    try {
      const outcome = (await this.options.reconcile(key)) as ReconcileOutcome;
      queue.forget(key);
      const requeueAfterMs = outcome?.requeueAfterMs;
      if (requeueAfterMs !== undefined && requeueAfterMs > 0) {
        queue.addAfter(key, requeueAfterMs);
        result = "requeue_after";
      } else {
        result = "success";
      }
    } catch (error) {
      result = "error";
      this.metrics.errors.inc({ controller });
      const timed = error instanceof FailedWithTimer ? error : undefined;
      logger.error({ err: timed?.failure ?? error, controller, key, retries: queue.numRequeues(key), requeueAfterMs: timed?.requeueAfterMs }, "reconcile failed");
      queue.addRateLimited(key);
      // The queue keeps the earlier of the two. A timer already due is the backoff's to retry, as it
      // is no requeue on success: never a retry at once.
      if (timed !== undefined && timed.requeueAfterMs > 0) queue.addAfter(key, timed.requeueAfterMs);
    } finally {
      endTimer();
      this.metrics.activeWorkers.dec({ controller });
    }
    this.metrics.total.inc({ controller, result });
  }
}
