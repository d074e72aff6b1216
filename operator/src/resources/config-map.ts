import type { V1ConfigMap } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { ownedMetadata } from "./metadata.js";

export const configMapName = (aia: AIAssistant): string => `${aia.metadata.name ?? ""}-config`;

export function configMap(aia: AIAssistant, configYAML: string): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMetadata(aia, configMapName(aia)),
    data: { "config.yaml": configYAML },
  };
}
