import { parseQuantity } from "../api/quantity.js";

/**
 * Whether `observed` already holds everything `desired` says, the way apimachinery's
 * equality.Semantic.DeepDerivative decides it: fields the server added (defaults, status,
 * metadata) don't count, and resource quantities compare by value ("1024Mi" is "1Gi").
 */
export function isDerivative(desired: unknown, observed: unknown): boolean {
  return firstDifference(desired, observed) === undefined;
}

/** The path of the first field where `observed` lacks what `desired` says, or undefined. */
export function firstDifference(desired: unknown, observed: unknown, path = "", parentKey = ""): string | undefined {
  if (desired === undefined) return undefined;
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || desired.length !== observed.length) return path;
    for (const [i, item] of desired.entries()) {
      const difference = firstDifference(item, observed[i], `${path}[${i}]`, parentKey);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (typeof desired === "object" && desired !== null) {
    if (typeof observed !== "object" || observed === null || Array.isArray(observed)) return path;
    const record = observed as Record<string, unknown>;
    for (const [key, value] of Object.entries(desired)) {
      // A scalar is judged by the key of the object holding it ("requests" for requests.memory).
      const difference = firstDifference(value, record[key], `${path}.${key}`, typeof value === "object" ? key : parentKey);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (quantityParents.has(parentKey) && (typeof desired === "string" || typeof desired === "number")) {
    const a = parseQuantity(String(desired));
    const b = parseQuantity(String(observed));
    // Suffix factors are binary fractions only for integer suffixes; "1100m" is 1.1 give or take an ulp.
    return a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)) ? undefined : path;
  }
  return desired === observed ? undefined : path;
}

/** Keys whose values are resource quantities, which the API server canonicalises. */
const quantityParents = new Set(["requests", "limits", "capacity"]);
