import assert from "node:assert/strict";
import type {
  KubernetesObject,
  V1ConfigMap,
  V1CronJob,
  V1Deployment,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { parse } from "yaml";
import { desiredState, steadyLayout, type DesiredState } from "../../src/resources/desired.js";
import { unreachableCpuTarget } from "../../src/resources/scaling.js";
import { defaultedAIAssistant } from "../support/aiassistant.js";

// The type argument names the kind the caller asked for by its `kind` string.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
function find<T extends KubernetesObject = KubernetesObject>(objects: KubernetesObject[], kind: string, name?: string): T {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  assert.ok(found, `no ${kind} ${name ?? ""}`);
  return found as T;
}

const everything = (desired: DesiredState): KubernetesObject[] => [...desired.waves.flat(), ...desired.extras];

describe("desired objects of an AIAssistant", function () {
  const aia = defaultedAIAssistant();
  const desired = desiredState(aia);

  it("owns every object through a controller ownerReference, except the data volume by default", function () {
    for (const object of everything(desired)) {
      const refs = object.metadata?.ownerReferences ?? [];
      if (object.kind === "PersistentVolumeClaim") {
        assert.deepEqual(refs, [], "the PVC outlives the AIAssistant unless deletePolicy is Delete");
        continue;
      }
      assert.deepEqual(refs, [
        { apiVersion: "aiassistant.dev/v1alpha1", kind: "AIAssistant", name: "demo", uid: aia.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      assert.equal(object.metadata?.namespace, "team-a");
      assert.equal(object.metadata?.labels?.["app.kubernetes.io/managed-by"], "aiassistant-operator");
      assert.equal(object.metadata?.labels?.["app.kubernetes.io/instance"], "demo");
    }
    const owned = desiredState(defaultedAIAssistant({ storage: { deletePolicy: "Delete" } }));
    assert.equal(find(everything(owned), "PersistentVolumeClaim").metadata?.ownerReferences?.length, 1);
  });

  it("applies identity, config and volume a wave before the Deployment that uses them", function () {
    assert.deepEqual(
      desired.waves.map((wave) => wave.map((o) => o.kind)),
      [["ServiceAccount", "ConfigMap", "PersistentVolumeClaim"], ["Deployment", "Service"]],
    );
    // The policy before the pods it isolates; the optional objects after what serves.
    const full = desiredState(
      defaultedAIAssistant({
        networkPolicy: { enabled: true },
        ingress: { enabled: true, host: "chat.example.com", tls: { secretName: "tls" }, allowUnauthenticated: true },
        backup: { enabled: true, s3: { bucket: "backups", credentialsSecretRef: { name: "s3" } } },
      }),
    );
    assert.deepEqual(full.waves.map((wave) => wave.map((o) => o.kind)), [
      ["ServiceAccount", "ConfigMap", "PersistentVolumeClaim", "NetworkPolicy"],
      ["Deployment", "Service"],
    ]);
    assert.deepEqual(full.extras.map((o) => o.kind), ["Ingress", "CronJob"]);
  });

  it("runs the assistant restricted, probed, and with its config hash in the pod template", function () {
    const deployment = find<V1Deployment>(everything(desired), "Deployment", "demo-blue");
    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.securityContext?.seccompProfile?.type, "RuntimeDefault");
    assert.equal(pod?.automountServiceAccountToken, false);
    assert.equal(pod?.serviceAccountName, "demo");
    assert.deepEqual(container?.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    assert.equal(container?.livenessProbe?.httpGet?.path, "/healthz");
    assert.equal(container?.readinessProbe?.httpGet?.path, "/readyz");
    assert.deepEqual(container?.volumeMounts?.map((m) => m.mountPath), ["/etc/assistant/config", "/app/data", "/tmp"]);
    assert.equal(deployment.spec?.template.metadata?.annotations?.["aiassistant.dev/config-hash"], desired.rendered.configHash);
    assert.equal(deployment.spec?.strategy?.type, "Recreate", "one SQLite file, one pod at a time");
    assert.deepEqual(deployment.spec?.selector.matchLabels, {
      "app.kubernetes.io/name": "ai-assistant",
      "app.kubernetes.io/instance": "demo",
      "aiassistant.dev/color": "blue",
    });
  });

  it("changes the config hash when the rendered config changes, and only then", function () {
    const other = desiredState(defaultedAIAssistant({ systemPrompt: "Be brief." }));
    assert.notEqual(other.rendered.configHash, desired.rendered.configHash);
    const scaled = desiredState(defaultedAIAssistant({ storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } }, replicas: 3 }));
    const scaledMore = desiredState(defaultedAIAssistant({ storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } }, replicas: 5 }));
    assert.equal(scaled.rendered.configHash, scaledMore.rendered.configHash, "replicas are not config");
  });

  it("points the stable Service at the active color and, around a rollout, the preview Service at the other", function () {
    const rollingOut = desiredState(aia, { ...steadyLayout(aia, "blue"), preview: true });
    const stable = find<V1Service>(everything(rollingOut), "Service", "demo");
    const preview = find<V1Service>(everything(rollingOut), "Service", "demo-preview");
    assert.equal(stable.spec?.selector?.["aiassistant.dev/color"], "blue");
    assert.equal(preview.spec?.selector?.["aiassistant.dev/color"], "green");
    assert.equal(preview.spec?.type, "ClusterIP", "reachable in the cluster on its port 80, as the stable one");
    assert.deepEqual(stable.spec?.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
    assert.ok(rollingOut.waves[1]?.includes(preview), "serving: promotion waits for its EndpointSlices");
    assert.ok(!rollingOut.remove.some((r) => r.name === "demo-preview"));
  });

  it("holds no preview Service, and no ClusterIP for it, outside a rollout: it is deleted if there is one", function () {
    assert.deepEqual(everything(desired).filter((o) => o.kind === "Service").map((o) => o.metadata?.name), ["demo"]);
    assert.deepEqual(desired.remove.filter((r) => r.kind === "Service"), [{ apiVersion: "v1", kind: "Service", namespace: "team-a", name: "demo-preview" }]);
  });

  it("points the stable Service at the starting color during a cutover, as the layout says", function () {
    const cutover = desiredState(aia, { ...steadyLayout(aia, "blue"), stable: "green", preview: true });
    assert.equal(find<V1Service>(everything(cutover), "Service", "demo").spec?.selector?.["aiassistant.dev/color"], "green");
    assert.equal(find<V1Service>(everything(cutover), "Service", "demo-preview").spec?.selector?.["aiassistant.dev/color"], "green");
  });

  it("passes secrets by reference only, never into the ConfigMap", function () {
    const withSecrets = desiredState(
      defaultedAIAssistant({
        model: { provider: "openai", baseURL: "https://llm.example/v1", name: "qwen", apiKeySecretRef: { name: "llm" } },
        storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg", key: "dsn" } } },
      }));
    const env = find<V1Deployment>(everything(withSecrets), "Deployment").spec?.template.spec?.containers[0]?.env ?? [];
    assert.deepEqual(env.find((e) => e.name === "MODEL_API_KEY")?.valueFrom?.secretKeyRef, { name: "llm", key: "apiKey" });
    assert.deepEqual(env.find((e) => e.name === "DATABASE_URL")?.valueFrom?.secretKeyRef, { name: "pg", key: "dsn" });
    const config = parse(find<V1ConfigMap>(everything(withSecrets), "ConfigMap").data?.["config.yaml"] ?? "") as Record<string, unknown>;
    assert.deepEqual(config["model"], { provider: "openai", baseURL: "https://llm.example/v1", name: "qwen", apiKeyEnv: "MODEL_API_KEY", timeoutMs: 60000, answerTimeoutMs: 300000 });
    assert.deepEqual(config["storage"], { mode: "postgres", urlEnv: "DATABASE_URL" });
    assert.equal(everything(withSecrets).some((o) => o.kind === "PersistentVolumeClaim"), false, "postgres needs no volume");
  });

  it("lists skill hosts and lets in-cluster or private skill hosts resolve to private addresses", function () {
    const configOf = (url: string) => {
      const rendered = desiredState(defaultedAIAssistant({ skills: [{ name: "order", description: "Look up an order", endpoint: { url } }] }));
      return parse(find<V1ConfigMap>(everything(rendered), "ConfigMap").data?.["config.yaml"] ?? "") as { skillHosts: string[]; skillOptions?: unknown };
    };
    const inCluster = configOf("http://erp.apps.svc:8080/orders");
    assert.deepEqual([inCluster.skillHosts, inCluster.skillOptions], [["erp.apps.svc:8080"], { allowPrivateNetworks: true }]);
    assert.deepEqual(configOf("http://10.1.2.3/orders").skillOptions, { allowPrivateNetworks: true });
    assert.equal(configOf("https://erp.example.com/orders").skillOptions, undefined, "public hosts stay public");
    assert.deepEqual(configOf("https://erp.example.com/orders").skillHosts, ["erp.example.com:443"]);
  });

  it("mounts file sources for the assistant to walk and hands it the URL sources to fetch", function () {
    const withKnowledge = desiredState(
      defaultedAIAssistant({ knowledge: { sources: [{ name: "handbook", configMap: { name: "hb" } }, { name: "faq", url: "https://intranet.example/faq.md" }] } }));
    const deployment = find<V1Deployment>(everything(withKnowledge), "Deployment");
    assert.ok(deployment.spec?.template.spec?.volumes?.some((v) => v.configMap?.name === "hb"));
    const config = parse(find<V1ConfigMap>(everything(withKnowledge), "ConfigMap").data?.["config.yaml"] ?? "") as { knowledge: unknown };
    assert.deepEqual(config.knowledge, { dir: "/etc/assistant/knowledge", urls: [{ url: "https://intranet.example/faq.md" }], topK: 4, chunkChars: 800, chunkOverlapChars: 0 });
    const urlsOnly = desiredState(defaultedAIAssistant({ knowledge: { sources: [{ name: "faq", url: "https://intranet.example/faq.md" }] } }));
    const urlsConfig = parse(find<V1ConfigMap>(everything(urlsOnly), "ConfigMap").data?.["config.yaml"] ?? "") as { knowledge: unknown };
    assert.deepEqual(urlsConfig.knowledge, { urls: [{ url: "https://intranet.example/faq.md" }], topK: 4, chunkChars: 800, chunkOverlapChars: 0 });
  });

  it("lets a variable of spec.env replace the operator's own of that name, never duplicating it", function () {
    const deployment = find<V1Deployment>(desiredState(defaultedAIAssistant({ env: [{ name: "PORT", value: "9090" }, { name: "EXTRA", value: "1" }] })).waves.flat(), "Deployment");
    const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
    assert.deepEqual(env.filter((variable) => variable.name === "PORT"), [{ name: "PORT", value: "9090" }]);
    assert.equal(new Set(env.map((variable) => variable.name)).size, env.length);
    assert.ok(env.some((variable) => variable.name === "EXTRA"));
  });

  it("sizes the young generation of the assistant's Node from its memory limit, unless spec.env sets NODE_OPTIONS", function () {
    const nodeOptionsOf = (spec: Parameters<typeof defaultedAIAssistant>[0]) =>
      find<V1Deployment>(desiredState(defaultedAIAssistant(spec)).waves.flat(), "Deployment").spec?.template.spec?.containers[0]?.env?.filter((variable) => variable.name === "NODE_OPTIONS");
    assert.deepEqual(nodeOptionsOf({}), []);
    assert.deepEqual(nodeOptionsOf({ resources: { requests: { memory: "1Gi" } } }), []);
    assert.deepEqual(nodeOptionsOf({ resources: { limits: { memory: "1Gi" } } }), [{ name: "NODE_OPTIONS", value: "--max-semi-space-size=32" }]);
    assert.deepEqual(nodeOptionsOf({ resources: { limits: { memory: "512Mi" } } }), [{ name: "NODE_OPTIONS", value: "--max-semi-space-size=16" }]);
    assert.deepEqual(nodeOptionsOf({ resources: { limits: { memory: "1Gi" } }, env: [{ name: "NODE_OPTIONS", value: "--max-old-space-size=700" }] }), [
      { name: "NODE_OPTIONS", value: "--max-old-space-size=700" },
    ]);
  });

  it("opens egress to the backup's S3 endpoint: the backup Job's pods fall under the same policy", function () {
    const aia = defaultedAIAssistant({
      networkPolicy: { enabled: true },
      backup: { enabled: true, s3: { endpoint: "http://minio.storage.svc:9000", bucket: "backups", credentialsSecretRef: { name: "s3" } } },
    });
    const policy = find<V1NetworkPolicy>(desiredState(aia).waves.flat(), "NetworkPolicy");
    assert.ok(policy.spec?.egress?.some((rule) => rule.to?.some((peer) => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "storage")));
  });

  it("opens egress to what the pod resolves as a Service: bare names, svc.namespace, and the OIDC issuer and JWKS", function () {
    const aia = defaultedAIAssistant({
      storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } },
      model: { provider: "openai", baseURL: "http://vllm.models:8000/v1", name: "qwen" },
      embeddings: { baseURL: "http://tei:8080/v1", model: "bge-m3" },
      auth: { mode: "oidc", oidc: { issuer: "http://keycloak.auth.svc:8080/realms/corp", audience: "assistant", jwksURI: "https://10.0.0.7/keys" } },
      skills: [{ name: "weather", description: "The weather", endpoint: { url: "https://api.weather.example.com/v1" } }],
      networkPolicy: { enabled: true },
    });
    const policy = find<V1NetworkPolicy>(everything(desiredState(aia)), "NetworkPolicy");
    assert.deepEqual(policy.spec?.egress?.slice(1), [
      { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "models" } } }] },
      { to: [{ podSelector: {} }] },
      { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "auth" } } }] },
      { to: [{ ipBlock: { cidr: "10.0.0.7/32" } }], ports: [{ protocol: "TCP", port: 443 }] },
    ]);
  });

  it("sizes the data volume from the spec", function () {
    const pvc = find<V1PersistentVolumeClaim>(desiredState(defaultedAIAssistant({ storage: { size: "5Gi", storageClassName: "fast" } })).waves.flat(), "PersistentVolumeClaim");
    assert.deepEqual(pvc.spec, { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } }, storageClassName: "fast" });
  });

  it("adds an HPA on the AIAssistant's /scale and a PDB only when there is more than one pod", function () {
    assert.deepEqual(desired.remove.map((r) => r.kind), ["HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Ingress", "Service", "CronJob"]);
    const autoscaled = defaultedAIAssistant({
      storage: { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } },
      autoscaling: { minReplicas: 2, maxReplicas: 6, targetMemoryUtilizationPercentage: 70 },
    });
    const scaled = desiredState(autoscaled, steadyLayout(autoscaled, "green"));
    const hpa = find<V2HorizontalPodAutoscaler>(everything(scaled), "HorizontalPodAutoscaler");
    assert.deepEqual(hpa.spec?.scaleTargetRef, { apiVersion: "aiassistant.dev/v1alpha1", kind: "AIAssistant", name: "demo" });
    assert.deepEqual([hpa.spec?.minReplicas, hpa.spec?.maxReplicas], [2, 6]);
    assert.deepEqual(hpa.spec?.metrics?.map((m) => m.resource?.name), ["memory"]);
    const pdb = find<V1PodDisruptionBudget>(everything(scaled), "PodDisruptionBudget");
    assert.equal(pdb.spec?.selector?.matchLabels?.["aiassistant.dev/color"], "green");
    assert.deepEqual(scaled.remove.map((r) => r.kind), ["NetworkPolicy", "Ingress", "Service", "CronJob"]);
  });

  it("holds autoscaled pods near half a core by default: the CPU target is a share of the request", function () {
    const storage = { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } };
    const cpuTargetOf = (resources: object | undefined, target?: number): number | undefined => {
      const autoscaled = defaultedAIAssistant({
        storage,
        ...(resources === undefined ? {} : { resources }),
        autoscaling: { minReplicas: 1, maxReplicas: 4, ...(target === undefined ? {} : { targetCPUUtilizationPercentage: target }) },
      });
      const hpa = find<V2HorizontalPodAutoscaler>(everything(desiredState(autoscaled)), "HorizontalPodAutoscaler");
      return hpa.spec?.metrics?.find((m) => m.resource?.name === "cpu")?.resource?.target.averageUtilization;
    };
    assert.equal(cpuTargetOf({ requests: { cpu: "1" } }), 50);
    assert.equal(cpuTargetOf({ requests: { cpu: 2 } }), 25);
    assert.equal(cpuTargetOf({ requests: { cpu: "1500m" } }), 33);
    assert.equal(cpuTargetOf({ limits: { cpu: "4" } }), 12, "a limit without a request is the request");
    assert.equal(cpuTargetOf({ requests: { cpu: "250m" } }), 80, "small pods keep the customary target");
    assert.equal(cpuTargetOf({ requests: { cpu: "64" } }), 1);
    assert.equal(cpuTargetOf(undefined), 80, "without a request the HPA reports the missing request");
    assert.equal(cpuTargetOf({ requests: { cpu: "2" } }, 70), 70, "an explicit target is kept");
  });

  it("says when an explicit CPU target would let pods saturate before the HPA adds one", function () {
    const storage = { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } };
    const warning = (cpu: string, target?: number) =>
      unreachableCpuTarget(
        defaultedAIAssistant({
          storage,
          resources: { requests: { cpu } },
          autoscaling: { minReplicas: 1, maxReplicas: 4, ...(target === undefined ? {} : { targetCPUUtilizationPercentage: target }) },
        }),
      );
    assert.match(warning("2", 80) ?? "", /80% of its CPU request \(1\.6 CPU\), .* \(25 holds half a CPU\)/);
    assert.match(warning("1", 100) ?? "", /\(1 CPU\)/);
    assert.equal(warning("1", 99), undefined);
    assert.equal(warning("100m", 80), undefined);
    assert.equal(warning("4"), undefined, "the default never does");
  });

  it("budgets disruptions once the HPA has grown an autoscaled assistant past one pod", function () {
    const storage = { mode: "postgres", postgres: { urlSecretRef: { name: "pg" } } };
    const autoscaled = (replicas: number) => defaultedAIAssistant({ storage, replicas, autoscaling: { minReplicas: 1, maxReplicas: 10 } });
    assert.ok(everything(desiredState(autoscaled(1))).every((o) => o.kind !== "PodDisruptionBudget"), "one pod: a budget would block every drain");
    find<V1PodDisruptionBudget>(everything(desiredState(autoscaled(6))), "PodDisruptionBudget");
  });
});

describe("the backup CronJob", function () {
  const withBackup = defaultedAIAssistant({
    backup: {
      enabled: true,
      schedule: "15 2 * * *",
      retentionCount: 7,
      s3: { endpoint: "http://minio.storage.svc:9000", bucket: "assistants", prefix: "prod/", credentialsSecretRef: { name: "s3" } },
    },
  });
  const cronJob = find<V1CronJob>(everything(desiredState(withBackup)), "CronJob", "demo-backup");
  const pod = cronJob.spec?.jobTemplate.spec?.template.spec;
  const container = pod?.containers[0];

  it("runs the image's backup command on the schedule, one at a time", function () {
    assert.equal(cronJob.spec?.schedule, "15 2 * * *");
    assert.equal(cronJob.spec?.concurrencyPolicy, "Forbid");
    assert.deepEqual(container?.command, ["node", "dist/src/backup/main.js", "backup"]);
    assert.equal(container?.image, withBackup.spec.image);
  });

  it("passes the destination as values and the credentials by Secret reference only", function () {
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef]));
    assert.deepEqual(env, {
      DATA_DIR: "/app/data",
      BACKUP_NAME: "team-a/demo",
      BACKUP_S3_BUCKET: "assistants",
      BACKUP_S3_REGION: "us-east-1",
      BACKUP_S3_ENDPOINT: "http://minio.storage.svc:9000",
      BACKUP_S3_PREFIX: "prod/",
      BACKUP_RETENTION_DAYS: "14",
      BACKUP_RETENTION_COUNT: "7",
      AWS_ACCESS_KEY_ID: { name: "s3", key: "AWS_ACCESS_KEY_ID" },
      AWS_SECRET_ACCESS_KEY: { name: "s3", key: "AWS_SECRET_ACCESS_KEY" },
    });
  });

  it("mounts the data volume on the node of the assistant's pod, restricted", function () {
    assert.ok(pod?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === "demo-data"));
    const affinity = pod?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0];
    assert.equal(affinity?.topologyKey, "kubernetes.io/hostname");
    assert.equal(affinity?.labelSelector?.matchLabels?.["app.kubernetes.io/component"], "assistant");
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(pod?.automountServiceAccountToken, false);
  });

  it("exists only while backup is enabled", function () {
    assert.ok(desiredState(defaultedAIAssistant()).remove.some((r) => r.kind === "CronJob" && r.name === "demo-backup"));
  });
});
