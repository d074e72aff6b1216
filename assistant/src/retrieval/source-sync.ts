import type { KnowledgeStore } from "../storage/types.js";
import { ASSISTANT_COLLECTION } from "./collections.js";
import type { IngestionQueue } from "./ingestion.js";
import type { DocumentFormat } from "./document-format.js";

export interface SyncReport {
  queued: number;
  unchanged: number;
  removed: number;
  /** Documents that could not be read this time; each keeps its last version. */
  failed: number;
  /** Changed documents left as they are: that content is being ingested, or failed within the last hour. */
  waiting: number;
  /**
   * The ingestion jobs the knowledge waits for: queued here for new and changed documents, or queued
   * for the same content before, by this replica or another that shares the store.
   */
  jobIds: string[];
}

/** One document a source lists, and how to read it now. */
export interface SourceDocument {
  source: string;
  read: () => Promise<{ format: DocumentFormat; content: Buffer }>;
}

export interface SourceSync {
  /** Whether an indexed document of the assistant's collection comes from this source. */
  owns: (source: string) => boolean;
  /** Told of a document that could not be read; it keeps its last version until the next sync. */
  unreadable: (source: string, error: Error) => void;
}

/**
 * Makes the documents of one source (the mounted folder, the URLs) in the assistant's collection
 * match `documents`: new or changed content (by content hash) is queued for ingestion, unchanged
 * content is skipped, content already on its way or failed within the hour waits, documents the
 * source no longer lists are deleted.
 */
export async function syncSource(store: KnowledgeStore, queue: IngestionQueue, documents: readonly SourceDocument[], sync: SourceSync): Promise<SyncReport> {
  const report: SyncReport = { queued: 0, unchanged: 0, removed: 0, failed: 0, waiting: 0, jobIds: [] };
  const indexed = new Map((await store.listDocuments(ASSISTANT_COLLECTION)).filter((document) => sync.owns(document.source)).map((document) => [document.source, document]));
  for (const { source, read } of documents) {
    let format: DocumentFormat;
    let content: Buffer;
    try {
      ({ format, content } = await read());
    } catch (error) {
      report.failed += 1;
      sync.unreadable(source, error as Error);
      continue;
    }
    const contentHash = queue.contentHash(content, { format });
    if (indexed.get(source)?.contentHash === contentHash) {
      report.unchanged += 1;
      continue;
    }
    const handled = await queue.handling(ASSISTANT_COLLECTION, source, contentHash);
    if (handled) {
      report.waiting += 1;
      if (handled.unfinished) report.jobIds.push(handled.id);
      continue;
    }
    const job = await queue.submit({ collection: ASSISTANT_COLLECTION, source, format, contentHash, content });
    report.queued += 1;
    report.jobIds.push(job.id);
  }
  const listed = new Set(documents.map((document) => document.source));
  for (const document of indexed.values()) {
    if (!listed.has(document.source) && (await store.deleteDocument(ASSISTANT_COLLECTION, document.id))) report.removed += 1;
  }
  return report;
}
