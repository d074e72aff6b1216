import * as k8s from "@kubernetes/client-node";
import type { AIAssistant } from "../../src/api/types.generated.js";
import { endpointsOf } from "../../src/rollout/observe.js";
import { aiAssistants, waitForAIAssistant } from "./aiassistant.js";
import { eventually } from "./kube.js";

/**
 * Samples a Service's EndpointSlices every `intervalMs` for as long as it runs, recording the
 * fewest ready endpoints seen, so a test can say the Service never lost capacity in a rollout.
 */
export class EndpointSampler {
  samples = 0;
  fewestReady = Number.POSITIVE_INFINITY;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly discovery: k8s.DiscoveryV1Api;

  constructor(
    kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly service: string,
    private readonly intervalMs = 100,
  ) {
    this.discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  }

  private async readyEndpoints(): Promise<number> {
    const list = await this.discovery.listNamespacedEndpointSlice({ namespace: this.namespace, labelSelector: `kubernetes.io/service-name=${this.service}` });
    return list.items.flatMap(endpointsOf).filter((endpoint) => endpoint.conditions?.ready !== false).length;
  }

  /**
   * Starts sampling once the Service lists `ready` ready endpoints: a Deployment reports its pods
   * ready before the EndpointSlice controller has caught up, and that lag is no lost capacity.
   */
  async start(ready: number): Promise<this> {
    await eventually(`${this.service} to list ${String(ready)} ready endpoints`, async () => ((await this.readyEndpoints()) >= ready ? true : undefined));
    this.loop = (async () => {
      while (!this.stopped) {
        const count = await this.readyEndpoints();
        this.samples++;
        this.fewestReady = Math.min(this.fewestReady, count);
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
      }
    })();
    return this;
  }

  async stop(): Promise<this> {
    this.stopped = true;
    await this.loop;
    return this;
  }
}

/** Patches an AIAssistant (JSON merge patch of the whole object: spec and/or metadata). */
export async function patchAIAssistant(kc: k8s.KubeConfig, namespace: string, name: string, body: object): Promise<void> {
  await kc
    .makeApiClient(k8s.CustomObjectsApi)
    .patchNamespacedCustomObject({ ...aiAssistants, namespace, name, body }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
}

/** Sets one of the rollout request annotations (promote, abort, rollback), as `kubectl annotate` would. */
export function requestRollout(kc: k8s.KubeConfig, namespace: string, name: string, request: "promote" | "abort" | "rollback"): Promise<void> {
  return patchAIAssistant(kc, namespace, name, { metadata: { annotations: { [`aiassistant.dev/${request}`]: "true" } } });
}

/** Waits until the newest rollout reaches `phase` (for the spec's current generation). */
export function waitForRolloutPhase(kc: k8s.KubeConfig, namespace: string, name: string, phase: string, timeoutMs = 90_000): Promise<AIAssistant> {
  return waitForAIAssistant(
    kc,
    namespace,
    name,
    (aia) => aia.status?.observedGeneration === aia.metadata.generation && aia.status?.lastRollout?.phase === phase,
    { what: `${name}'s rollout to reach ${phase}`, timeoutMs },
  );
}
