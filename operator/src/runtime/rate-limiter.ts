import { systemClock, type Clock } from "./clock.js";

/** How long to wait before an item may be retried (client-go's workqueue.TypedRateLimiter). */
export interface RateLimiter {
  /** The delay for this retry of `key`; calling it counts a retry. */
  when(key: string): number;
  /** Retries counted for `key` since it last succeeded. */
  numRequeues(key: string): number;
  /** `key` succeeded: start its backoff from the beginning again. */
  forget(key: string): void;
}

/** base * 2^failures, capped: one failing object backs off without slowing the others. */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long before it matters; the cap takes care of it.
    return Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

/**
 * An overall token bucket (golang.org/x/time/rate's Reserve semantics): a burst of retries is let
 * through, then they are spread at `qps`, so a mass failure cannot hammer the API server.
 * Reservations may take the bucket below zero; the delay is the time to pay that debt back.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  numRequeues(): number {
    return 0;
  }

  forget(): void {
    // The bucket refills with time, not with success.
  }
}

/** The longest delay any of the limiters asks for. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must see every retry, so no short-circuit.
    return Math.max(...this.limiters.map((limiter) => limiter.when(key)));
  }

  numRequeues(key: string): number {
    return Math.max(...this.limiters.map((limiter) => limiter.numRequeues(key)));
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }
}

/** client-go's DefaultControllerRateLimiter: per item 5 ms doubling to 1000 s, overall 10 qps with a burst of 100. */
export function defaultControllerRateLimiter(clock: Clock = systemClock): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(5, 1000_000), new BucketRateLimiter(10, 100, clock));
}
