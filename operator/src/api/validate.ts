import { Ajv, type ErrorObject } from "ajv";
import { specSchema } from "./schema.js";
import type { AIAssistantSpec } from "./types.generated.js";

/**
 * Run-time validation of a spec against the same schema the CRD carries. The API server has
 * already enforced it (and the CEL rules, which ajv can't evaluate) for objects it stored; this
 * guards the reconciler against objects written before a schema change, and fills defaults.
 */
// strictTypes is off because Kubernetes' int-or-string shape (anyOf integer|string beside a
// string pattern) is exactly what it objects to; every other strict check stays on.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false });
for (const keyword of [
  "x-kubernetes-validations",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
]) {
  ajv.addKeyword({ keyword, schemaType: ["boolean", "string", "array"] });
}
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));

const validateSpec = ajv.compile<AIAssistantSpec>(specSchema);

export type SpecValidation = { ok: true; spec: AIAssistantSpec } | { ok: false; errors: string[] };

/** Validates (a copy of) `spec`, returning it with defaults filled, or readable errors. */
export function validateAIAssistantSpec(spec: unknown): SpecValidation {
  const copy: unknown = structuredClone(spec ?? {});
  if (validateSpec(copy)) return { ok: true, spec: copy };
  return { ok: false, errors: (validateSpec.errors ?? []).map(describeError) };
}

function describeError(error: ErrorObject): string {
  const path = `spec${error.instancePath.replaceAll("/", ".")}`;
  if (error.keyword === "additionalProperties") {
    return `${path}: unknown field "${String(error.params["additionalProperty"])}"`;
  }
  return `${path}: ${error.message ?? error.keyword}`;
}
