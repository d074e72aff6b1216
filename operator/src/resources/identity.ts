import type { V1ServiceAccount } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { ownedMetadata } from "./metadata.js";

export const serviceAccountName = (aia: AIAssistant): string => aia.metadata.name ?? "";

/** Each assistant runs as its own identity; it needs no Kubernetes API access, so no token. */
export function serviceAccount(aia: AIAssistant): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: ownedMetadata(aia, serviceAccountName(aia)),
    automountServiceAccountToken: false,
  };
}
