import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Color } from "../api/color.js";
import { annotationKeys, labelKeys, managedByValue } from "../api/labels.js";
import type { AIAssistant } from "../api/types.generated.js";
import { sha256 } from "../resources/assistant-config.js";
import type { ObjectRef } from "../resources/desired.js";
import { fieldManager } from "../resources/metadata.js";
import { apiMessage, RetryableError } from "./errors.js";
import type { ObjectCache } from "./object-cache.js";
import { firstDifference } from "./semantic.js";

/** One write a pass made, for its Events. */
export interface Change {
  verb: "Created" | "Updated" | "Deleted";
  kind: string;
  name: string;
  /** What the API server returned for an apply. */
  result?: k8s.KubernetesObject;
}

/**
 * Writes owned objects: server-side apply with one field manager, skipped when the cluster
 * already holds what would be applied, and deletes of optional objects that are ours.
 */
export class Applier {
  private readonly objects: k8s.KubernetesObjectApi;

  /** `owned`: one cache per owned kind, keyed by kind; what an apply compares against. */
  constructor(kc: k8s.KubeConfig, private readonly owned: ReadonlyMap<string, ObjectCache>) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  }

  /** Applies a wave's objects at once; a Deployment the API server returned replaces the cached one. */
  async applyWave(
    wave: readonly k8s.KubernetesObject[],
    changes: Change[],
    deployments: Record<Color, k8s.V1Deployment | undefined>,
    log: Logger,
  ): Promise<void> {
    const results = await Promise.all(wave.map((object) => this.applyIfChanged(object, log)));
    for (const change of results) {
      if (!change) continue;
      changes.push(change);
      if (change.kind === "Deployment") {
        const color = change.result?.metadata?.labels?.[labelKeys.color] as Color | undefined;
        if (color) deployments[color] = change.result;
      }
    }
  }

  /** Applies `object` unless the cluster already holds exactly what we would apply. */
  async applyIfChanged(
    object: k8s.KubernetesObject,
    log: Logger,
    observed = this.owned.get(object.kind ?? "")?.get(object.metadata?.namespace ?? "", object.metadata?.name ?? ""),
  ): Promise<Change | undefined> {
    const meta = object.metadata ?? {};
    const hash = sha256(JSON.stringify(object)).slice(0, 16);
    meta.annotations = { ...meta.annotations, [annotationKeys.appliedHash]: hash };
    // The hash catches fields we stopped setting; the deep comparison catches drift by others.
    // Objects from a list carry no apiVersion/kind; the cache slot already says what they are.
    const drift = observed && firstDifference({ ...object, apiVersion: undefined, kind: undefined }, observed);
    if (observed && drift === undefined) return undefined;
    if (drift !== undefined) log.debug({ kind: object.kind, object: meta.name, field: drift }, "object differs from the desired state");
    try {
      const result = await this.objects.patch(object, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply);
      const verb = observed ? "Updated" : "Created";
      log.info({ kind: object.kind, object: meta.name }, `${verb.toLowerCase()} ${object.kind ?? ""}`);
      return { verb, kind: object.kind ?? "", name: meta.name ?? "", result };
    } catch (error) {
      // Server-side apply answers 500 "failed to create typed patch object" for a value of the wrong type.
      if (error instanceof k8s.ApiException && (error.code === 422 || error.code === 400 || /failed to create typed patch object/.test(apiMessage(error)))) {
        throw new RetryableError({ reason: "ApplyRejected", message: `${object.kind ?? ""} ${meta.name ?? ""}: ${apiMessage(error)}` });
      }
      throw error;
    }
  }

  /** Deletes an optional object the spec dropped, if it is ours; true when it deleted one. */
  async removeIfOwned(aia: AIAssistant, ref: ObjectRef, log: Logger): Promise<boolean> {
    const observed = this.owned.get(ref.kind)?.get(ref.namespace, ref.name);
    const ours =
      observed?.metadata?.labels?.[labelKeys.managedBy] === managedByValue &&
      observed.metadata.ownerReferences?.some((o) => o.uid === aia.metadata.uid);
    if (!ours) return false;
    try {
      await this.objects.delete({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } });
      log.info({ kind: ref.kind, object: ref.name }, `deleted ${ref.kind}`);
      return true;
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return false;
      throw error;
    }
  }

  /** An object no informer watches (a kind that may not exist), read with a GET; undefined when absent. */
  async readIfExists(ref: k8s.KubernetesObject & { metadata: { name: string; namespace: string } }): Promise<k8s.KubernetesObject | undefined> {
    try {
      return await this.objects.read(ref);
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async delete(ref: k8s.KubernetesObject): Promise<void> {
    await this.objects.delete(ref);
  }
}
