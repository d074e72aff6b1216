import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1PodSpec,
  V1ResourceRequirements,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { containerPort, paths, secretEnvVars } from "./assistant-config.js";
import { annotationKeys, colorSelector, labelKeys, ownedMetadata, type Color } from "./metadata.js";
import { configMapName } from "./config-map.js";
import { dataClaimName } from "./storage.js";
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

/** The non-root user of the assistant image. */
const assistantUID = 10001;

function volumes(aia: AIAssistant): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const spec = aia.spec;
  const list: V1Volume[] = [
    { name: "config", configMap: { name: configMapName(aia) } },
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
  const env: V1EnvVar[] = [
    { name: "PORT", value: String(containerPort) },
    { name: "HOST", value: "0.0.0.0" },
    { name: "DATA_DIR", value: paths.dataDir },
    { name: "ASSISTANT_CONFIG", value: paths.configFile },
    ...secretEnvVars(spec),
    // The user's variables come last so they can override ours (the last duplicate wins).
    ...((spec.env ?? []) as unknown as V1EnvVar[]),
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
    startupProbe: probe("/healthz", 2, 60),
    livenessProbe: probe("/healthz", 10, 3),
    readinessProbe: probe("/readyz", 5, 2),
    volumeMounts: mounts,
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    },
  };
}

function podSpec(aia: AIAssistant): V1PodSpec {
  const overrides = aia.spec.podTemplate ?? {};
  const { volumes: podVolumes, mounts } = volumes(aia);
  const spec: V1PodSpec = {
    serviceAccountName: serviceAccountName(aia),
    automountServiceAccountToken: false,
    // The assistant drains in-flight requests (streams included) on SIGTERM.
    terminationGracePeriodSeconds: 30,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: assistantUID,
      runAsGroup: assistantUID,
      fsGroup: assistantUID,
      seccompProfile: { type: "RuntimeDefault" },
    },
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

/**
 * The Deployment of one color. Its replica count is the AIAssistant's (which an HPA may drive
 * through the /scale subresource), and its pod template carries the config hash so that a
 * config change is a template change.
 */
export function deployment(aia: AIAssistant, color: Color, replicas: number, configHash: string): V1Deployment {
  const spec = aia.spec;
  const selector = colorSelector(aia, color);
  const extra = spec.podTemplate?.metadata ?? {};
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: ownedMetadata(aia, deploymentName(aia, color), { labels: { [labelKeys.color]: color } }),
    spec: {
      replicas,
      selector: { matchLabels: selector },
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
      // Two pods must never open one SQLite file on a ReadWriteOnce volume.
      strategy: spec.storage.mode === "embedded" ? { type: "Recreate" } : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
      template: {
        metadata: {
          labels: { ...extra.labels, ...selector, [labelKeys.component]: "assistant" },
          annotations: { ...extra.annotations, [annotationKeys.configHash]: configHash },
        },
        spec: podSpec(aia),
      },
    },
  };
}
