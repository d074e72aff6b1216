/**
 * Time as the runtime sees it. Queues and rate limiters take a Clock so their timing logic can
 * be tested step by step instead of with sleeps that flake on a busy machine.
 */
export interface Clock {
  now(): number;
  /** A timer that does not keep the process alive: pending retries must not delay an exit. */
  setTimeout(callback: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

/** What setTimeout returns; opaque to callers. */
export type Timer = object;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (timer) => {
    clearTimeout(timer as NodeJS.Timeout);
  },
};

/**
 * Resolves after `ms` (at once when it is zero or negative: a deadline already past), or at once
 * when `signal` aborts; never rejects, so loops can check the signal.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `ms` scaled by a random factor in [1, 1 + factor), as client-go's wait.Jitter, so replicas don't move in step. */
export function jitter(ms: number, factor: number, random: () => number = Math.random): number {
  return ms * (1 + factor * random());
}
