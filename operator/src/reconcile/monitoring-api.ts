import * as k8s from "@kubernetes/client-node";

/**
 * Whether the Prometheus Operator's ServiceMonitor and PrometheusRule kinds are served, from API
 * discovery (which every authenticated client may read). The answer is kept for `ttlMs`, so a
 * cluster that installs the Prometheus Operator later is noticed without a restart and without a
 * discovery call per reconcile.
 */
export class MonitoringAPI {
  private checkedAt = Number.NEGATIVE_INFINITY;
  private served = false;

  constructor(
    private readonly custom: k8s.CustomObjectsApi,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async available(): Promise<boolean> {
    if (this.now() - this.checkedAt < this.ttlMs) return this.served;
    this.served = await this.serves(["ServiceMonitor", "PrometheusRule"]);
    this.checkedAt = this.now();
    return this.served;
  }

  private async serves(kinds: string[]): Promise<boolean> {
    try {
      const list = await this.custom.getAPIResources({ group: "monitoring.coreos.com", version: "v1" });
      return kinds.every((kind) => list.resources.some((resource) => resource.kind === kind));
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return false;
      throw error;
    }
  }
}
