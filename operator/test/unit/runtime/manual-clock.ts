import type { Clock, Timer } from "../../../src/runtime/clock.js";

/** A clock that moves only when the test says so; timers fire in due order as it passes them. */
export class ManualClock implements Clock {
  private current = 1_000_000;
  private readonly timers = new Set<{ at: number; callback: () => void }>();

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const timer = { at: this.current + ms, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(timer: Timer): void {
    this.timers.delete(timer as { at: number; callback: () => void });
  }

  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = [...this.timers].filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due);
      this.current = due.at;
      due.callback();
    }
    this.current = target;
  }

  pending(): number {
    return this.timers.size;
  }
}

/** Lets already-resolved promise callbacks (and their chains) run. */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}
