import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { ChunkHit, KnowledgeStore } from "../storage/types.js";
import { chunkText, titleOf } from "./chunk.js";
import { indexTerms, queryTerms } from "./text.js";

export type Passage = ChunkHit;

/** What the dialog layer needs from retrieval; issue 6's hybrid (BM25 + vectors) retriever implements the same. */
export interface Retriever {
  search(tenant: string, query: string, topK: number): Promise<Passage[]>;
  documentCount(tenant: string): Promise<number>;
}

export function bm25Retriever(store: KnowledgeStore): Retriever {
  return {
    search(tenant, query, topK) {
      return store.searchChunks(tenant, queryTerms(query), topK);
    },
    documentCount(tenant) {
      return store.countDocuments(tenant);
    },
  };
}

const INGESTIBLE = /\.(md|markdown|txt)$/i;

/**
 * The documents under `dir`. Kubernetes mounts a ConfigMap or Secret as symlinks (`a.md ->
 * ..data/a.md`) into a hidden, timestamped folder that is swapped on every update, so files are
 * taken by their visible names (following links) and hidden folders are skipped.
 */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const visible = entries.filter(
    (entry) => INGESTIBLE.test(entry.name) && !relative(dir, entry.parentPath).split(sep).some((part) => part.startsWith(".")),
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

export interface IngestReport {
  added: number;
  unchanged: number;
  removed: number;
}

/**
 * Makes the store's documents for `tenant` match the files under `dir`: new or changed files are
 * (re)indexed, unchanged ones (same content hash) are skipped, vanished ones are deleted.
 */
export async function syncKnowledgeDir(store: KnowledgeStore, tenant: string, dir: string, chunkChars: number): Promise<IngestReport> {
  const report: IngestReport = { added: 0, unchanged: 0, removed: 0 };
  const seen = new Set<string>();
  for (const path of await filesUnder(dir)) {
    const source = relative(dir, path);
    seen.add(source);
    const text = await readFile(path, "utf8");
    const chunks = chunkText(text, chunkChars).map((chunk, ordinal) => ({
      ordinal,
      heading: chunk.heading,
      text: chunk.text,
      terms: indexTerms(`${chunk.heading}\n${chunk.text}`),
    }));
    const { changed } = await store.putDocument(tenant, {
      source,
      title: titleOf(text, source),
      contentHash: createHash("sha256").update(text).digest("hex"),
      chunks,
    });
    if (changed) report.added += 1;
    else report.unchanged += 1;
  }
  for (const document of await store.listDocuments(tenant)) {
    if (!seen.has(document.source) && (await store.deleteDocument(tenant, document.id))) report.removed += 1;
  }
  return report;
}
