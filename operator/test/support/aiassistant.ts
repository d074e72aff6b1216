import { validateAIAssistantSpec } from "../../src/api/validate.js";
import type { AIAssistant } from "../../src/api/types.generated.js";

/** An AIAssistant as the API server would return it: defaults filled, uid and generation set. */
export function defaultedAIAssistant(spec: Record<string, unknown> = {}, name = "demo", namespace = "team-a"): AIAssistant {
  const validation = validateAIAssistantSpec(spec);
  if (!validation.ok) throw new Error(`invalid test spec: ${validation.errors.join("; ")}`);
  return {
    apiVersion: "aiassistant.dev/v1alpha1",
    kind: "AIAssistant",
    metadata: { name, namespace, uid: "0c6f1a34-5d1e-4c59-9d76-0f4c7d0b2e11", generation: 3 },
    spec: validation.spec,
  };
}
