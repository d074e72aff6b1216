import type { V1ConfigMap } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { labelKeys } from "../api/labels.js";
import { ownedMetadata } from "./metadata.js";

export const configComponent = "config";

/**
 * One ConfigMap per rendered config: a color keeps the config it started with while the other
 * color rolls out a new one, and a rollback finds its config still there.
 */
export const configMapName = (aia: AIAssistant, configHash: string): string => `${aia.metadata.name ?? ""}-config-${configHash.slice(0, 10)}`;

export function configMap(aia: AIAssistant, configYAML: string, configHash: string): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMetadata(aia, configMapName(aia, configHash), { labels: { [labelKeys.component]: configComponent } }),
    immutable: true,
    data: { "config.yaml": configYAML },
  };
}
