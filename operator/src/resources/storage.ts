import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { ownedMetadata } from "./metadata.js";

export const dataClaimName = (aia: AIAssistant): string => `${aia.metadata.name ?? ""}-data`;

/**
 * The embedded store's volume. It carries an owner reference (and so is garbage-collected with
 * the AIAssistant) only with `deletePolicy: Delete`: by default user data outlives the resource.
 */
export function dataClaim(aia: AIAssistant): V1PersistentVolumeClaim {
  const { size, storageClassName, accessModes, deletePolicy } = aia.spec.storage;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: ownedMetadata(aia, dataClaimName(aia), { owned: deletePolicy === "Delete" }),
    spec: {
      accessModes,
      resources: { requests: { storage: size } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  };
}
