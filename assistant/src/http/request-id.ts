import { randomUUID } from "node:crypto";
import type { Masker } from "../masking/mask.js";

/** What tracing proxies send (UUIDs, hex, base32 and dotted ids), and nothing that could be more. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * The id a request is logged and answered under: the client's `x-request-id` when it has a safe form,
 * else a new UUID. The id is logged as it is, so one that masking would change (a phone number sent
 * as an id) is personal data and is replaced too.
 */
export function requestIdFor(header: string | string[] | undefined, mask: Masker): string {
  if (typeof header === "string" && SAFE_ID.test(header) && mask(header) === header) return header;
  return randomUUID();
}
