import type { V1Service } from "@kubernetes/client-node";
import type { AIAssistant } from "../api/types.generated.js";
import { colorSelector, otherColor, ownedMetadata, type Color } from "./metadata.js";

export const stableServiceName = (aia: AIAssistant): string => aia.metadata.name ?? "";
export const previewServiceName = (aia: AIAssistant): string => `${aia.metadata.name ?? ""}-preview`;

/** The Service users call: it selects the active color only. */
export function stableService(aia: AIAssistant, active: Color): V1Service {
  const { type, port, annotations } = aia.spec.service;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(aia, stableServiceName(aia), annotations ? { annotations } : {}),
    spec: {
      type,
      selector: colorSelector(aia, active),
      ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/** The Service for testing a new version before promotion: it selects the idle color. */
export function previewService(aia: AIAssistant, active: Color): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(aia, previewServiceName(aia)),
    spec: {
      type: "ClusterIP",
      selector: colorSelector(aia, otherColor(active)),
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    },
  };
}

export function serviceEndpoint(aia: AIAssistant): string {
  const port = aia.spec.service.port;
  return `http://${stableServiceName(aia)}.${aia.metadata.namespace ?? ""}.svc${port === 80 ? "" : `:${port}`}`;
}
