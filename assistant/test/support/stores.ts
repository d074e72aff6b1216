import { testPostgres } from "./postgres-tier.js";

export type StoreKind = "embedded" | "postgres";

/** Every store the service runs on; suites that matter for both run once per store. */
export const STORE_KINDS: readonly StoreKind[] = ["embedded", "postgres"];

/** The config and environment that put a service on `kind`: a fresh PostgreSQL database each time. */
export async function storePlacement(kind: StoreKind): Promise<{ storage: Record<string, unknown>; env: Record<string, string> }> {
  if (kind === "embedded") return { storage: { mode: "embedded" }, env: {} };
  return { storage: { mode: "postgres", urlEnv: "DATABASE_URL" }, env: { DATABASE_URL: await testPostgres().createDatabase() } };
}
