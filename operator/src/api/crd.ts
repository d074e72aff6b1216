import type { V1CustomResourceDefinition } from "@kubernetes/client-node";
import { aiAssistantSchema, group, kind, plural, shortNames, singular, version } from "./schema.js";

export const crdName = `${plural}.${group}`;
export const apiVersion = `${group}/${version}`;

/** The CustomResourceDefinition, built from the one schema. */
export function aiAssistantCRD(): V1CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: crdName },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind, listKind: `${kind}List`, plural, singular, shortNames, categories: ["ai"] },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: aiAssistantSchema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: ".spec.replicas",
              statusReplicasPath: ".status.replicas",
              labelSelectorPath: ".status.selector",
            },
          },
          additionalPrinterColumns: [
            { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: "Active", type: "string", jsonPath: ".status.activeColor", description: "Color serving traffic" },
            { name: "Replicas", type: "integer", jsonPath: ".status.readyReplicas", description: "Ready pods of the active color" },
            { name: "Rollout", type: "string", jsonPath: ".status.lastRollout.phase", description: "Phase of the newest blue-green rollout" },
            { name: "Endpoint", type: "string", jsonPath: ".status.endpoint" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
        },
      ],
    },
  };
}
