type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The JSON merge patch (RFC 7386) that turns `before` into `after`: `after` itself, plus a null
 * for every key `before` had and `after` dropped, at any depth. Arrays and scalars are replaced
 * whole, as merge patches do.
 */
export function mergePatch(before: unknown, after: unknown): Json {
  if (!isObject(before) || !isObject(after)) return after as Json;
  const patch: Record<string, Json> = {};
  for (const [key, value] of Object.entries(after)) patch[key] = mergePatch(before[key], value);
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  return patch;
}
