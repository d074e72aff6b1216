import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1PodSecurityContext,
  V1PodSpec,
  V1PodTemplateSpec,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { containerPort, paths, secretEnvVars, sha256, terminationGracePeriodSeconds } from "./assistant-config.js";
import type { Color } from "../api/color.js";
import { annotationKeys, labelKeys } from "../api/labels.js";
import { assistantPodLabels, colorSelector, ownedMetadata } from "./metadata.js";
import { dataClaimName } from "./storage.js";
import { nodeOptions } from "./node-heap.js";
import { serviceAccountName } from "./identity.js";

export const deploymentName = (aia: AIAssistant, color: Color): string => `${aia.metadata.name ?? ""}-${color}`;

// Core/v1 objects the spec passes through as they are (env, envFrom, tolerations, affinity, …)
// are cast, not checked, here: the API server validates them when it admits the Deployment, and
// a bad one surfaces as an apply error in the Degraded condition.

function resourceRequirements(resources: NonNullable<AIAssistant["spec"]["resources"]>): V1ResourceRequirements {
  const strings = (quantities: Record<string, number | string> | undefined) =>
    quantities && Object.fromEntries(Object.entries(quantities).map(([k, v]) => [k, String(v)]));
  const requests = strings(resources.requests);
  const limits = strings(resources.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

/** The non-root user of the assistant image (its Dockerfile's USER). */
const assistantUID = 10001;

function volumes(aia: AIAssistant, configMapName: string): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const spec = aia.spec;
  const list: V1Volume[] = [
    { name: "config", configMap: { name: configMapName } },
    spec.storage.mode === "embedded"
      ? { name: "data", persistentVolumeClaim: { claimName: dataClaimName(aia) } }
      : { name: "data", emptyDir: {} },
    { name: "tmp", emptyDir: {} },
  ];
  const mounts: V1VolumeMount[] = [
    { name: "config", mountPath: paths.configDir, readOnly: true },
    { name: "data", mountPath: paths.dataDir },
    { name: "tmp", mountPath: paths.tmpDir },
  ];
  if (spec.auth.apiKeysSecretRef) {
    list.push({ name: "api-keys", secret: { secretName: spec.auth.apiKeysSecretRef.name } });
    mounts.push({ name: "api-keys", mountPath: paths.apiKeysDir, readOnly: true });
  }
  for (const source of spec.knowledge?.sources ?? []) {
    const volumeName = `knowledge-${source.name}`;
    if (source.configMap) list.push({ name: volumeName, configMap: { name: source.configMap.name } });
    else if (source.secret) list.push({ name: volumeName, secret: { secretName: source.secret.name } });
    else continue;
    mounts.push({ name: volumeName, mountPath: `${paths.knowledgeDir}/${source.name}`, readOnly: true });
  }
  return { volumes: list, mounts };
}

function container(aia: AIAssistant, mounts: V1VolumeMount[]): V1Container {
  const spec = aia.spec;
  // A variable the user sets replaces ours of the same name. It must replace, not follow: server-side
  // apply refuses a list with two entries of one name.
  const userEnv = (spec.env ?? []) as unknown as V1EnvVar[];
  const overridden = new Set(userEnv.map((variable) => variable.name));
  const heapOptions = nodeOptions(spec.resources?.limits?.["memory"]);
  const env: V1EnvVar[] = [
    ...[
      ...(heapOptions === undefined ? [] : [{ name: "NODE_OPTIONS", value: heapOptions }]),
      { name: "PORT", value: String(containerPort) },
      { name: "HOST", value: "0.0.0.0" },
      { name: "DATA_DIR", value: paths.dataDir },
      { name: "ASSISTANT_CONFIG", value: paths.configFile },
      ...secretEnvVars(spec),
    ].filter((variable) => !overridden.has(variable.name)),
    ...userEnv,
  ];
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: "http" },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  return {
    name: "assistant",
    image: spec.image,
    ...(spec.imagePullPolicy ? { imagePullPolicy: spec.imagePullPolicy } : {}),
    ports: [{ name: "http", containerPort, protocol: "TCP" }],
    env,
    ...(spec.envFrom ? { envFrom: spec.envFrom } : {}),
    ...(spec.resources ? { resources: resourceRequirements(spec.resources) } : {}),
    // Probed often: a pod that starts (a cutover, a scale-up) serves as soon as it answers, and one
    // that drains leaves the Service's endpoints within the drain delay (see drainDelayMs).
    startupProbe: probe("/healthz", 1, 120),
    livenessProbe: probe("/healthz", 10, 3),
    readinessProbe: probe("/readyz", 1, 2),
    volumeMounts: mounts,
    securityContext: restrictedContainer,
  };
}

/** The restricted Pod Security Standard, for every pod and container of an assistant. */
export const restrictedPod: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: assistantUID,
  runAsGroup: assistantUID,
  fsGroup: assistantUID,
  seccompProfile: { type: "RuntimeDefault" },
};
export const restrictedContainer: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
};

function podSpec(aia: AIAssistant, configMapName: string): V1PodSpec {
  const overrides = aia.spec.podTemplate ?? {};
  const { volumes: podVolumes, mounts } = volumes(aia, configMapName);
  const spec: V1PodSpec = {
    serviceAccountName: serviceAccountName(aia),
    automountServiceAccountToken: false,
    // The assistant drains in-flight requests (streams included) on SIGTERM.
    terminationGracePeriodSeconds,
    securityContext: restrictedPod,
    containers: [container(aia, mounts)],
    volumes: podVolumes,
    ...(overrides.nodeSelector ? { nodeSelector: overrides.nodeSelector } : {}),
    ...(overrides.tolerations ? { tolerations: overrides.tolerations } : {}),
    ...(overrides.affinity ? { affinity: overrides.affinity } : {}),
    ...(overrides.topologySpreadConstraints ? { topologySpreadConstraints: overrides.topologySpreadConstraints } : {}),
    ...(overrides.priorityClassName ? { priorityClassName: overrides.priorityClassName } : {}),
    ...(overrides.imagePullSecrets ? { imagePullSecrets: overrides.imagePullSecrets } : {}),
  } as V1PodSpec;
  return spec;
}

/** A pod template and its revision: the hash of everything in it, so any change is a new revision. */
export interface PodTemplateRevision {
  template: V1PodTemplateSpec;
  revision: string;
}

/**
 * The pod template the spec asks for, without a color: the same template runs as blue or green,
 * so its revision says whether a color runs what the spec wants. The config travels by name (one
 * ConfigMap per config hash), so a config change is a template change and the old color keeps
 * the config it started with.
 */
export function podTemplate(aia: AIAssistant, configMapName: string, configHash: string): PodTemplateRevision {
  const extra = aia.spec.podTemplate?.metadata ?? {};
  const template: V1PodTemplateSpec = {
    metadata: {
      labels: { ...extra.labels, ...assistantPodLabels(aia) },
      annotations: { ...extra.annotations, [annotationKeys.configHash]: configHash },
    },
    spec: podSpec(aia, configMapName),
  };
  return { template, revision: sha256(JSON.stringify(template)).slice(0, 10) };
}

/**
 * The Deployment of one color running `pod` (the spec's template, or the one an old color
 * already runs). Its pods carry the color, which the Services select, and the revision, which
 * tells a rollout's new pods from old ones.
 */
export function deployment(aia: AIAssistant, color: Color, replicas: number, pod: PodTemplateRevision): V1Deployment {
  const spec = aia.spec;
  const selector = colorSelector(aia, color);
  const metadata = pod.template.metadata ?? {};
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: ownedMetadata(aia, deploymentName(aia, color), {
      labels: { [labelKeys.color]: color },
      annotations: { [annotationKeys.revision]: pod.revision },
    }),
    spec: {
      replicas,
      selector: { matchLabels: selector },
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
      // Two pods must never open one SQLite file on a ReadWriteOnce volume.
      strategy: spec.storage.mode === "embedded" ? { type: "Recreate" } : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
      template: {
        metadata: {
          labels: { ...metadata.labels, ...selector, [labelKeys.revision]: pod.revision },
          ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
        },
        ...(pod.template.spec ? { spec: pod.template.spec } : {}),
      },
    },
  };
}
