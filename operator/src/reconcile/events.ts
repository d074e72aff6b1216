import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiVersion } from "../api/crd.js";
import { kind } from "../api/schema.js";
import type { AIAssistant } from "../api/types.generated.js";
import type { Change } from "./apply.js";

export const reportingComponent = "aiassistant-operator";

/** Kubernetes Events on an AIAssistant, for `kubectl describe`. A failed write is logged, never fatal. */
export class EventRecorder {
  private readonly core: k8s.CoreV1Api;

  constructor(kc: k8s.KubeConfig, private readonly logger: Logger, private readonly instance: string) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async record(aia: AIAssistant, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const namespace = aia.metadata.namespace ?? "";
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${aia.metadata.name ?? ""}.`, namespace },
          involvedObject: { apiVersion, kind, name: aia.metadata.name ?? "", namespace, uid: aia.metadata.uid ?? "" },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: reportingComponent },
          reportingComponent,
          reportingInstance: this.instance,
        },
      });
    } catch (error) {
      this.logger.warn({ err: error, namespace, name: aia.metadata.name, reason }, "could not record event");
    }
  }

  /** One Event per kind of change in a pass (not one per object), to keep writes per pass low. */
  async recordChanges(aia: AIAssistant, changes: readonly Change[]): Promise<void> {
    for (const verb of ["Created", "Updated", "Deleted"] as const) {
      const objects = changes.filter((c) => c.verb === verb).map((c) => `${c.kind} ${c.name}`);
      if (objects.length > 0) await this.record(aia, "Normal", verb, `${verb} ${objects.join(", ")}`);
    }
  }
}
