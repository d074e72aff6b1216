import assert from "node:assert/strict";
import type { RunningService } from "./service.js";

export const median = (samples: readonly number[]): number => [...samples].sort((left, right) => left - right)[Math.floor(samples.length / 2)] ?? NaN;

/** Asks /healthz once, as a kubelet would; resolves with how long the answer took, in ms. */
export async function healthzLatency(service: RunningService): Promise<number> {
  const started = performance.now();
  assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  return performance.now() - started;
}
