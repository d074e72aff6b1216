import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Logger } from "pino";
import type { ChunkHit, KnowledgeStore, TermFrequencies } from "../storage/types.js";
import { readableCollections } from "./collections.js";
import type { IngestionQueue } from "./ingestion.js";
import { formatOfName } from "./document-format.js";
import { isUrlSource } from "./url-sources.js";
import { syncSource, type SourceDocument, type SyncReport } from "./source-sync.js";
import { queryTerms } from "./text.js";

/** A retrieved chunk; `similarity` is its cosine similarity to the query when vectors were searched and found it. */
export type Passage = ChunkHit & { similarity?: number };

/**
 * What the dialog layer needs from retrieval. `tenant` is the caller's: a search covers the
 * assistant's documents and that tenant's own, never another tenant's (collections.ts).
 */
export interface Retriever {
  search(tenant: string, query: string, topK: number): Promise<Passage[]>;
  documentCount(tenant: string): Promise<number>;
  /** How often query terms occur in what the tenant reads, to weigh them. */
  termFrequencies(tenant: string, terms: readonly string[]): Promise<TermFrequencies>;
}

export function bm25Retriever(store: KnowledgeStore): Retriever {
  return {
    search(tenant, query, topK) {
      return store.searchChunks(readableCollections(tenant), queryTerms(query), topK);
    },
    documentCount(tenant) {
      return store.countDocuments(readableCollections(tenant));
    },
    termFrequencies(tenant, terms) {
      return store.termFrequencies(readableCollections(tenant), terms);
    },
  };
}

/**
 * The documents under `dir` whose format ingestion reads. Kubernetes mounts a ConfigMap or Secret
 * as symlinks (`a.md -> ..data/a.md`) into a hidden, timestamped folder that is swapped on every
 * update, so files are taken by their visible names (following links) and hidden folders are skipped.
 */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const visible = entries.filter(
    (entry) => formatOfName(entry.name) !== undefined && !relative(dir, entry.parentPath).split(sep).some((part) => part.startsWith(".")),
  );
  const files = await Promise.all(
    visible.map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      if (entry.isFile()) return path;
      if (!entry.isSymbolicLink()) return undefined;
      const target = await stat(path).catch(() => undefined);
      return target?.isFile() ? path : undefined;
    }),
  );
  return files.filter((path): path is string => path !== undefined).sort();
}

/**
 * Makes the assistant's collection match the files under `dir` (see syncSource). A file that cannot
 * be read (its permissions, or the kubelet swapping a mounted volume's files mid-sync) keeps its last
 * version and is tried again at the next sync.
 */
export async function syncKnowledgeDir(store: KnowledgeStore, queue: IngestionQueue, dir: string, logger: Logger): Promise<SyncReport> {
  const documents = (await filesUnder(dir)).flatMap((path): SourceDocument[] => {
    const source = relative(dir, path).split(sep).join("/");
    const format = formatOfName(source);
    return format === undefined ? [] : [{ source, read: async () => ({ format, content: await readFile(path) }) }];
  });
  return syncSource(store, queue, documents, {
    owns: (source) => !isUrlSource(source),
    unreadable: (source, error) => {
      logger.warn({ source, problem: error.message }, "knowledge file could not be read, keeping its last version");
    },
  });
}

/**
 * Runs `sync` again every `intervalMs`, so a changed ConfigMap or Secret (the kubelet swaps the
 * mounted files within about a minute) or a changed URL reaches the knowledge base without a restart.
 * A sync still running when the next is due is not doubled. Returns the function that stops it.
 */
export function repeatSync(what: string, intervalMs: number, sync: () => Promise<SyncReport>, logger: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sync()
      .then(({ queued, removed, unchanged }) => {
        if (queued + removed > 0) logger.info({ what, queued, removed, unchanged }, "knowledge source changed");
      })
      .catch((error: unknown) => {
        logger.warn({ err: error, what }, "knowledge sync failed, trying again at the next interval");
      })
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
