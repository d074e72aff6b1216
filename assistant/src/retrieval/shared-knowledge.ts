import type { Retriever } from "./knowledge.js";

/** The tenant `knowledge.dir` is ingested under: the assistant's own knowledge base. */
export const ASSISTANT_KNOWLEDGE_TENANT = "default";

/**
 * Every caller, whatever their tenant, searches the assistant's own knowledge base: its documents
 * come only from `knowledge.dir`, which whoever deploys the assistant controls. The caller's tenant
 * still reaches this point, so per-tenant documents (issue 6) are scoped here: a caller then reads
 * the assistant's documents and its own tenant's, never another tenant's.
 */
export function assistantKnowledge(retriever: Retriever): Retriever {
  return {
    search: (_callerTenant, query, topK) => retriever.search(ASSISTANT_KNOWLEDGE_TENANT, query, topK),
    documentCount: () => retriever.documentCount(ASSISTANT_KNOWLEDGE_TENANT),
  };
}
