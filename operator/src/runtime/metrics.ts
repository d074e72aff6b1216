import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/*
 * Metric names follow controller-runtime and client-go, so the dashboards and alerts written for
 * Go operators work for this one unchanged.
 */

type CounterConfig<L extends string> = ConstructorParameters<typeof Counter<L>>[0];
type GaugeConfig<L extends string> = ConstructorParameters<typeof Gauge<L>>[0];
type HistogramConfig<L extends string> = ConstructorParameters<typeof Histogram<L>>[0];

/*
 * Several queues, informers or controllers share one registry and each labels its own series;
 * the first one to need a metric registers it and the others reuse it.
 */
export function counterOn<L extends string>(registry: Registry, config: CounterConfig<L>): Counter<L> {
  return (registry.getSingleMetric(config.name) as Counter<L> | undefined) ?? new Counter<L>({ ...config, registers: [registry] });
}

export function gaugeOn<L extends string>(registry: Registry, config: GaugeConfig<L>): Gauge<L> {
  return (registry.getSingleMetric(config.name) as Gauge<L> | undefined) ?? new Gauge<L>({ ...config, registers: [registry] });
}

export function histogramOn<L extends string>(registry: Registry, config: HistogramConfig<L>): Histogram<L> {
  return (registry.getSingleMetric(config.name) as Histogram<L> | undefined) ?? new Histogram<L>({ ...config, registers: [registry] });
}

export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after";
export const reconcileResults: readonly ReconcileResult[] = ["success", "error", "requeue", "requeue_after"];

/** controller-runtime's reconcile metrics (pkg/internal/controller/metrics). */
export function reconcileMetrics(registry: Registry) {
  return {
    total: counterOn(registry, {
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
    }),
    errors: counterOn(registry, {
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"],
    }),
    time: histogramOn(registry, {
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60],
    }),
    activeWorkers: gaugeOn(registry, {
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"],
    }),
    maxConcurrentReconciles: gaugeOn(registry, {
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"],
    }),
  };
}

/** A registry with the process metrics (CPU, memory, event loop lag, …) and the reconcile metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  reconcileMetrics(registry);
  return registry;
}
