import type { KubernetesObject, V1Deployment } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { renderAssistantConfigYAML, sha256 } from "./assistant-config.js";
import { backupCronJob, backupCronJobName } from "./backup.js";
import { configMap, configMapName } from "./config-map.js";
import { serviceAccount } from "./identity.js";
import { otherColor, type Color, type ColorLayout, type ColorPlan } from "../api/color.js";
import { annotationKeys } from "../api/labels.js";
import { ingress, networkPolicy, previewService, previewServiceName, stableService } from "./network.js";
import { autoscaler, disruptionBudget } from "./scaling.js";
import { dataClaim } from "./storage.js";
import { deployment, podTemplate, type PodTemplateRevision } from "./workload.js";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** What the spec renders to before any color is chosen: its config and its pod template. */
export interface Rendered {
  configYAML: string;
  configHash: string;
  configMapName: string;
  pod: PodTemplateRevision;
}

export function render(aia: AIAssistant): Rendered {
  const configYAML = renderAssistantConfigYAML(aia.spec);
  const configHash = sha256(configYAML).slice(0, 16);
  const name = configMapName(aia, configHash);
  return { configYAML, configHash, configMapName: name, pod: podTemplate(aia, name, configHash) };
}

/** No rollout: the active color runs the spec at spec.replicas, the other none. */
export function steadyLayout(aia: AIAssistant, active: Color): ColorLayout {
  return {
    active,
    colors: { [active]: { replicas: aia.spec.replicas, template: "desired" }, [otherColor(active)]: { replicas: 0, template: "keep" } } as Record<Color, ColorPlan>,
    observed: { blue: undefined, green: undefined },
    preview: false,
  };
}

export interface DesiredState {
  /**
   * What serving traffic depends on, in waves: everything in a wave may go at once, and a wave goes
   * only after the one before it (the pod's identity, config, volume and network policy before the
   * Deployments and Services). The rollout step a pass planned counts as taken only once all of it
   * is applied.
   */
  waves: KubernetesObject[][];
  /**
   * The optional objects around it (autoscaler, disruption budget, Ingress, backup CronJob), applied
   * after: one the API server refuses shows as Degraded, but cannot hold up or undo a rollout step.
   */
  extras: KubernetesObject[];
  /** Optional objects the spec (or the rollout, for the preview Service) no longer asks for: delete them if they exist. */
  remove: ObjectRef[];
  rendered: Rendered;
}

/** A color's Deployment, or none when it should keep a template it never had and run no pods. */
function colorDeployment(aia: AIAssistant, color: Color, layout: ColorLayout, rendered: Rendered): V1Deployment | undefined {
  const { replicas, template } = layout.colors[color];
  const observed = layout.observed[color];
  const keptRevision = observed?.metadata?.annotations?.[annotationKeys.revision];
  if (template === "keep" && observed?.spec && keptRevision !== undefined) {
    return deployment(aia, color, replicas, { template: observed.spec.template, revision: keptRevision });
  }
  // Nothing to keep (never created, or made by an operator that didn't label revisions).
  if (template === "keep" && replicas === 0 && observed === undefined) return undefined;
  return deployment(aia, color, replicas, rendered.pod);
}

/** Everything one AIAssistant should own, from its spec and the rollout's color layout (a pure function). */
export function desiredState(aia: AIAssistant, layout: ColorLayout = steadyLayout(aia, "blue"), rendered: Rendered = render(aia)): DesiredState {
  const namespace = aia.metadata.namespace ?? "";
  const name = aia.metadata.name ?? "";
  const podInputs: KubernetesObject[] = [serviceAccount(aia), configMap(aia, rendered.configYAML, rendered.configHash)];
  if (aia.spec.storage.mode === "embedded") podInputs.push(dataClaim(aia));
  const serving: KubernetesObject[] = [];
  for (const color of ["blue", "green"] as const) {
    const object = colorDeployment(aia, color, layout, rendered);
    if (object) serving.push(object);
  }
  serving.push(stableService(aia, layout.stable ?? layout.active));

  const remove: ObjectRef[] = [];
  const extras: KubernetesObject[] = [];
  // The policy goes before the pods it isolates: a rejected one holds the rollout rather than letting
  // new pods run without it. The preview Service exists only around a rollout, which its
  // EndpointSlices gate.
  const optional: [KubernetesObject | undefined, KubernetesObject[], string, string, string][] = [
    [autoscaler(aia), extras, "autoscaling/v2", "HorizontalPodAutoscaler", name],
    [disruptionBudget(aia, layout.active), extras, "policy/v1", "PodDisruptionBudget", name],
    [networkPolicy(aia), podInputs, "networking.k8s.io/v1", "NetworkPolicy", name],
    [ingress(aia), extras, "networking.k8s.io/v1", "Ingress", name],
    [layout.preview ? previewService(aia, layout.active) : undefined, serving, "v1", "Service", previewServiceName(aia)],
    [backupCronJob(aia), extras, "batch/v1", "CronJob", backupCronJobName(aia)],
  ];
  for (const [object, wave, apiVersion, kind, objectName] of optional) {
    if (object) wave.push(object);
    else remove.push({ apiVersion, kind, namespace, name: objectName });
  }
  return { waves: [podInputs, serving], extras, remove, rendered };
}
