import type { IngestionJob, IngestionJobStore, KnowledgeDocument, KnowledgeStore, Page } from "../storage/types.js";
import { ASSISTANT_COLLECTION, readableCollections, tenantCollection } from "./collections.js";
import type { IngestionQueue } from "./ingestion.js";
import type { Passage, Retriever } from "./knowledge.js";
import type { DocumentFormat } from "./document-format.js";

export interface Upload {
  /** The document's name within the tenant: uploading the same source again replaces it. */
  source: string;
  title?: string;
  format: DocumentFormat;
  content: Buffer;
}

export type DeleteOutcome = "deleted" | "not_found" | "read_only";

/**
 * The knowledge base as one tenant sees it through the API: it reads the assistant's documents and
 * its own, and writes only its own. Uploads become ingestion jobs; nothing here parses or indexes.
 */
export class KnowledgeBase {
  constructor(
    private readonly store: KnowledgeStore & IngestionJobStore,
    private readonly queue: IngestionQueue,
    private readonly retriever: Retriever,
  ) {}

  upload(tenant: string, { source, title, format, content }: Upload): Promise<IngestionJob> {
    return this.queue.submit({
      collection: tenantCollection(tenant),
      source,
      ...(title === undefined ? {} : { title }),
      format,
      contentHash: this.queue.contentHash(content, { format, ...(title === undefined ? {} : { title }) }),
      content,
    });
  }

  documents(tenant: string, limit: number, cursor: string | undefined): Promise<Page<KnowledgeDocument>> {
    return this.store.pageDocuments(readableCollections(tenant), limit, cursor);
  }

  document(tenant: string, id: string): Promise<KnowledgeDocument | undefined> {
    return this.store.getDocument(readableCollections(tenant), id);
  }

  /**
   * The assistant's own documents are read-only here: they change with `knowledge.dir`. A delete
   * first fails the document's unfinished uploads, which would otherwise bring it back: one storing
   * its result right now either finishes before the cancellation and is deleted with the document,
   * or sees it and stores nothing (storeJobDocument).
   */
  async deleteDocument(tenant: string, id: string): Promise<DeleteOutcome> {
    const collection = tenantCollection(tenant);
    const document = await this.store.getDocument([collection], id);
    if (document !== undefined) {
      await this.store.cancelUnfinishedJobs(collection, document.source, "the document was deleted before this upload was indexed");
      if (await this.store.deleteDocument(collection, id)) return "deleted";
    }
    return (await this.store.getDocument([ASSISTANT_COLLECTION], id)) === undefined ? "not_found" : "read_only";
  }

  search(tenant: string, query: string, topK: number): Promise<Passage[]> {
    return this.retriever.search(tenant, query, topK);
  }

  job(tenant: string, id: string): Promise<IngestionJob | undefined> {
    return this.store.getJob(tenantCollection(tenant), id);
  }

  jobs(tenant: string, limit: number): Promise<IngestionJob[]> {
    return this.store.listJobs(tenantCollection(tenant), limit);
  }
}
