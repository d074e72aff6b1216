import type { RunningService } from "./service.js";

/**
 * The liveness probe the operator gives the assistant's container (operator/src/resources/workload.ts):
 * GET /healthz, failed by an answer other than 2xx/3xx or none within 2 s, and the container
 * restarted after 3 failures in a row.
 */
export const livenessProbe = { timeoutMs: 2000, failureThreshold: 3 };

/** Probes /healthz once, as the kubelet would: true when it passed. */
export async function probeLiveness(service: RunningService): Promise<boolean> {
  try {
    const response = await fetch(`${service.url}/healthz`, { signal: AbortSignal.timeout(livenessProbe.timeoutMs) });
    await response.arrayBuffer();
    return response.status >= 200 && response.status < 400;
  } catch {
    return false;
  }
}

/** The longest run of failed probes in `results`; the kubelet restarts at livenessProbe.failureThreshold. */
export function longestFailureRun(results: readonly boolean[]): number {
  let longest = 0;
  let run = 0;
  for (const passed of results) {
    run = passed ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest;
}
