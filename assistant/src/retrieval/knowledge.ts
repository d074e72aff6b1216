import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Logger } from "pino";
import type { ChunkHit, KnowledgeStore } from "../storage/types.js";
import { ASSISTANT_COLLECTION, readableCollections } from "./collections.js";
import type { IngestionQueue } from "./ingestion.js";
import { formatOfName } from "./parse.js";
import { isUrlSource } from "./url-sources.js";
import { queryTerms } from "./text.js";

export type Passage = ChunkHit;

/**
 * What the dialog layer needs from retrieval. `tenant` is the caller's: a search covers the
 * assistant's documents and that tenant's own, never another tenant's (collections.ts).
 */
export interface Retriever {
  search(tenant: string, query: string, topK: number): Promise<Passage[]>;
  documentCount(tenant: string): Promise<number>;
}

export function bm25Retriever(store: KnowledgeStore): Retriever {
  return {
    search(tenant, query, topK) {
      return store.searchChunks(readableCollections(tenant), queryTerms(query), topK);
    },
    documentCount(tenant) {
      return store.countDocuments(readableCollections(tenant));
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

export interface SyncReport {
  queued: number;
  unchanged: number;
  removed: number;
  /** The ingestion jobs queued for new and changed files. */
  jobIds: string[];
}

/**
 * Makes the assistant's collection match the files under `dir`: new or changed files (by content
 * hash) are queued for ingestion, unchanged ones are skipped without being read twice, vanished
 * ones are deleted. A file that cannot be read (its permissions, or the kubelet swapping a mounted
 * volume's files mid-sync) keeps its last version and is tried again at the next sync.
 */
export async function syncKnowledgeDir(store: KnowledgeStore, queue: IngestionQueue, dir: string, logger: Logger): Promise<SyncReport & { failed: number }> {
  const report = { queued: 0, unchanged: 0, removed: 0, failed: 0, jobIds: [] as string[] };
  const indexed = new Map((await store.listDocuments(ASSISTANT_COLLECTION)).map((document) => [document.source, document]));
  const seen = new Set<string>();
  for (const path of await filesUnder(dir)) {
    const source = relative(dir, path).split(sep).join("/");
    const format = formatOfName(source);
    if (format === undefined) continue;
    seen.add(source);
    let content: Buffer;
    try {
      content = await readFile(path);
    } catch (error) {
      report.failed += 1;
      logger.warn({ source, problem: (error as Error).message }, "knowledge file could not be read, keeping its last version");
      continue;
    }
    const contentHash = queue.contentHash(content);
    if (indexed.get(source)?.contentHash === contentHash) {
      report.unchanged += 1;
      continue;
    }
    const job = await queue.submit({ collection: ASSISTANT_COLLECTION, source, format, contentHash, content });
    report.queued += 1;
    report.jobIds.push(job.id);
  }
  for (const document of indexed.values()) {
    if (seen.has(document.source) || isUrlSource(document.source)) continue;
    if (await store.deleteDocument(ASSISTANT_COLLECTION, document.id)) report.removed += 1;
  }
  return report;
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
