import type { Logger } from "pino";
import type { AIAssistant } from "../api/types.generated.js";
import { monitoringAPIVersion, prometheusRule, serviceMonitor } from "../resources/monitoring.js";
import type { Applier, Change } from "./apply.js";
import type { MonitoringAPI } from "./monitoring-api.js";
import type { ConditionInput } from "./status.js";

export interface MonitoringOutcome {
  /** Undefined when this pass didn't get as far: the status keeps the condition it had. */
  condition: ConditionInput | undefined;
  requeueAfterMs?: number;
}

/**
 * The ServiceMonitor and PrometheusRule, when monitoring is on and the Prometheus Operator's
 * CRDs are installed. They are read with a GET, not watched: an informer on a kind that may not
 * exist would fail until it does. Turned off, what was applied is deleted.
 */
export async function reconcileMonitoring(
  aia: AIAssistant,
  monitoringAPI: MonitoringAPI,
  applier: Applier,
  changes: Change[],
  log: Logger,
): Promise<MonitoringOutcome> {
  const enabled = aia.spec.monitoring.enabled;
  const applied = aia.status?.conditions?.find((c) => c.type === "Monitoring")?.reason === "Applied";
  const disabled: ConditionInput = { type: "Monitoring", status: "False", reason: "Disabled", message: "spec.monitoring.enabled is false" };
  if (!enabled && !applied) return { condition: disabled };
  if (!(await monitoringAPI.available())) {
    if (!enabled) return { condition: disabled };
    return {
      condition: {
        type: "Monitoring",
        status: "False",
        reason: "CRDsNotInstalled",
        message: "the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs are not installed; they are created once it is",
      },
      requeueAfterMs: monitoringAPI.ttlMs,
    };
  }
  const namespace = aia.metadata.namespace ?? "";
  const name = aia.metadata.name ?? "";
  for (const kind of ["ServiceMonitor", "PrometheusRule"] as const) {
    const ref = { apiVersion: monitoringAPIVersion, kind, metadata: { name, namespace } };
    const observed = await applier.readIfExists(ref);
    const desired = kind === "ServiceMonitor" ? serviceMonitor(aia) : prometheusRule(aia);
    if (desired) {
      const change = await applier.applyIfChanged(desired, log, observed);
      if (change) changes.push(change);
    } else if (observed?.metadata?.ownerReferences?.some((o) => o.uid === aia.metadata.uid)) {
      await applier.delete(ref);
      changes.push({ verb: "Deleted", kind, name });
    }
  }
  if (!enabled) return { condition: disabled };
  return { condition: { type: "Monitoring", status: "True", reason: "Applied", message: "ServiceMonitor and PrometheusRule are in place" } };
}
