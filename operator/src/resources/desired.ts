import type { KubernetesObject } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { renderAssistantConfigYAML, sha256 } from "./assistant-config.js";
import { configMap } from "./config-map.js";
import { serviceAccount } from "./identity.js";
import type { Color } from "./metadata.js";
import { previewService, stableService } from "./network.js";
import { autoscaler, disruptionBudget } from "./scaling.js";
import { dataClaim } from "./storage.js";
import { deployment } from "./workload.js";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface DesiredState {
  /**
   * Objects to apply in waves: everything in a wave may go at once, and a wave goes only after
   * the one before it (the pod's identity, config and volume before the Deployment).
   */
  waves: KubernetesObject[][];
  /** Optional objects the spec no longer asks for: delete them if they exist. */
  remove: ObjectRef[];
  configHash: string;
}

/** Everything one AIAssistant should own, computed from its spec alone (a pure function). */
export function desiredState(aia: AIAssistant, active: Color): DesiredState {
  const configYAML = renderAssistantConfigYAML(aia.spec);
  const configHash = sha256(configYAML).slice(0, 16);
  const namespace = aia.metadata.namespace ?? "";
  const name = aia.metadata.name ?? "";
  const podInputs: KubernetesObject[] = [serviceAccount(aia), configMap(aia, configYAML)];
  if (aia.spec.storage.mode === "embedded") podInputs.push(dataClaim(aia));
  const serving: KubernetesObject[] = [deployment(aia, active, aia.spec.replicas, configHash), stableService(aia, active), previewService(aia, active)];

  const remove: ObjectRef[] = [];
  const optional: [KubernetesObject | undefined, string, string][] = [
    [autoscaler(aia), "autoscaling/v2", "HorizontalPodAutoscaler"],
    [disruptionBudget(aia, active), "policy/v1", "PodDisruptionBudget"],
  ];
  for (const [object, apiVersion, kind] of optional) {
    if (object) serving.push(object);
    else remove.push({ apiVersion, kind, namespace, name });
  }
  return { waves: [podInputs, serving], remove, configHash };
}
