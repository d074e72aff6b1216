import { ApiError } from "./errors.js";

/**
 * The characters of every string and key anywhere in `value`: every message of every role, every
 * content part, tool-call names and arguments, whatever else a client nests. Walked with a stack, so
 * however deep a client nests, it costs no recursion.
 */
export function textChars(value: unknown): number {
  let chars = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === "string") chars += item.length;
    else if (Array.isArray(item)) for (const nested of item as unknown[]) pending.push(nested);
    else if (typeof item === "object" && item !== null) {
      for (const [key, nested] of Object.entries(item)) {
        chars += key.length;
        pending.push(nested);
      }
    }
  }
  return chars;
}

/**
 * Refuses, before any masking, retrieval or skill call, a request whose text is over
 * `limits.maxRequestChars`: the work those do grows with it, and the body limit alone lets one
 * request carry a megabyte of text into them.
 */
export function limitRequestChars(what: string, value: unknown, maxChars: number): void {
  const chars = textChars(value);
  if (chars > maxChars) {
    throw new ApiError(413, "request_too_large", `${what} hold ${chars} characters together, more than the ${maxChars} allowed (limits.maxRequestChars)`);
  }
}
