/**
 * Which documents a caller reads and writes. The assistant's own documents come only from
 * `knowledge.dir`, which whoever deploys the assistant controls, so every tenant of the assistant
 * reads them. A document uploaded through the API belongs to the uploader's tenant: only that tenant
 * reads, replaces or deletes it. No caller ever reaches another tenant's collection.
 */
export const ASSISTANT_COLLECTION = "assistant";

/** The prefix keeps a tenant's collection apart from the assistant's, whatever the tenant is called. */
export function tenantCollection(tenant: string): string {
  return `tenant/${tenant}`;
}

/** What `tenant` may search and read: the assistant's documents and its own. */
export function readableCollections(tenant: string): readonly string[] {
  return [ASSISTANT_COLLECTION, tenantCollection(tenant)];
}

export type DocumentScope = "assistant" | "tenant";

export function scopeOf(collection: string): DocumentScope {
  return collection === ASSISTANT_COLLECTION ? "assistant" : "tenant";
}
