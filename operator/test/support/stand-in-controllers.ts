import * as k8s from "@kubernetes/client-node";
import { labelKeys } from "../../src/api/labels.js";

/**
 * What the Deployment controller, the kubelet and the EndpointSlice controller would do for the
 * Deployments and Services of one namespace, for the api tier, which runs none of them: each
 * Deployment gets spec.replicas pods of its template's revision, Running and Ready (pods of another
 * revision, or too many, are deleted), its status says so, and each Service gets an EndpointSlice
 * that lists the ready pods it selects, labelled and owned as the real controller does it. It
 * acts as the admin the tests run as, so the operator's own permissions are all that is tested.
 */
export class StandInControllers {
  private readonly apps: k8s.AppsV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly objects: k8s.KubernetesObjectApi;
  private stopped = false;
  private loop: Promise<void> | undefined;
  lastError: unknown;

  constructor(
    kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly intervalMs = 200,
  ) {
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  }

  start(): this {
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.round();
        } catch (error) {
          // A conflict with the operator's own write, say: the next round tries again.
          this.lastError = error;
        }
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async round(): Promise<void> {
    const namespace = this.namespace;
    for (const deployment of (await this.apps.listNamespacedDeployment({ namespace })).items) await this.runPods(deployment);
    const pods = (await this.core.listNamespacedPod({ namespace })).items;
    for (const service of (await this.core.listNamespacedService({ namespace })).items) await this.publishEndpoints(service, pods);
  }

  /** The Deployment controller and the kubelet: the template's pods, ready, and a status that says so. */
  private async runPods(deployment: k8s.V1Deployment): Promise<void> {
    const namespace = this.namespace;
    const name = deployment.metadata?.name ?? "";
    const replicas = deployment.spec?.replicas ?? 1;
    const template = deployment.spec?.template;
    const labels = template?.metadata?.labels ?? {};
    const revision = labels[labelKeys.revision] ?? "";
    const selector = Object.entries(deployment.spec?.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
    const owned = (await this.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
    const current = owned.filter((pod) => pod.metadata?.labels?.[labelKeys.revision] === revision);
    const unwanted = [...owned.filter((pod) => !current.includes(pod)), ...current.slice(replicas)];
    for (const pod of unwanted) await this.core.deleteNamespacedPod({ namespace, name: pod.metadata?.name ?? "" });
    for (let i = current.length; i < replicas; i++) {
      const pod = await this.core.createNamespacedPod({
        namespace,
        body: { metadata: { generateName: `${name}-`, labels }, spec: template?.spec ?? { containers: [] } },
      });
      const ip = `10.244.${String(Math.floor(Math.random() * 250))}.${String(1 + Math.floor(Math.random() * 250))}`;
      await this.core.patchNamespacedPodStatus(
        {
          namespace,
          name: pod.metadata?.name ?? "",
          body: { status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: "True" }] } },
        },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
    }
    const status = deployment.status;
    const generation = deployment.metadata?.generation ?? 0;
    if (status?.observedGeneration === generation && status.availableReplicas === replicas && status.replicas === replicas) return;
    await this.apps.patchNamespacedDeploymentStatus(
      {
        namespace,
        name,
        body: {
          status: {
            observedGeneration: generation,
            replicas,
            updatedReplicas: replicas,
            readyReplicas: replicas,
            availableReplicas: replicas,
            conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "stand-in" }],
          },
        },
      },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  }

  /** The EndpointSlice controller: one slice per Service, with the Service's labels, owned by it. */
  private async publishEndpoints(service: k8s.V1Service, pods: k8s.V1Pod[]): Promise<void> {
    const selector = service.spec?.selector;
    if (!selector) return;
    const name = `${service.metadata?.name ?? ""}-stand-in`;
    const selected = pods.filter((pod) => Object.entries(selector).every(([k, v]) => pod.metadata?.labels?.[k] === v) && pod.metadata?.deletionTimestamp === undefined);
    const slice: k8s.V1EndpointSlice = {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name,
        namespace: this.namespace,
        labels: { ...service.metadata?.labels, "kubernetes.io/service-name": service.metadata?.name ?? "", "endpointslice.kubernetes.io/managed-by": "stand-in" },
        ownerReferences: [{ apiVersion: "v1", kind: "Service", name: service.metadata?.name ?? "", uid: service.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true }],
      },
      addressType: "IPv4",
      endpoints: selected.map((pod) => ({
        addresses: [pod.status?.podIP ?? "10.244.0.1"],
        conditions: { ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false },
        targetRef: { kind: "Pod", name: pod.metadata?.name ?? "", namespace: this.namespace, uid: pod.metadata?.uid ?? "" },
      })),
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    };
    await this.objects.patch(slice, undefined, undefined, "stand-in-endpointslice-controller", true, k8s.PatchStrategy.ServerSideApply);
  }
}
