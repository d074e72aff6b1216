import type { Logger } from "pino";
import type { KnowledgeStore } from "../storage/types.js";
import type { IngestionQueue } from "./ingestion.js";
import { formatOfName, type DocumentFormat } from "./document-format.js";
import { syncSource, type SyncReport } from "./source-sync.js";

/** A URL source's document is named by its URL, which no file under the knowledge folder can be. */
export const isUrlSource = (source: string): boolean => /^https?:\/\//.test(source);

const BY_MEDIA_TYPE: Record<string, DocumentFormat> = {
  "text/plain": "text",
  "text/markdown": "markdown",
  "text/x-markdown": "markdown",
  "text/html": "html",
  "application/xhtml+xml": "html",
  "application/pdf": "pdf",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
};

/** The format by the answer's media type, else by the URL path's extension. */
function formatOf(url: string, contentType: string | null): DocumentFormat | undefined {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return BY_MEDIA_TYPE[mediaType] ?? formatOfName(new URL(url).pathname);
}

/** Reads at most `maxBytes` of the body: a larger document is refused, not cut. */
async function boundedBody(response: Response, maxBytes: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  // Node's fetch typings leave the body's chunks untyped; a fetch body yields bytes.
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (reader === undefined) return Buffer.alloc(0);
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    total += read.value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`larger than ${maxBytes} bytes`);
    }
    parts.push(read.value);
  }
  return Buffer.concat(parts);
}

export interface UrlFetchLimits {
  maxBytes: number;
  timeoutMs: number;
}

/**
 * Makes the assistant's URL documents match `urls` (see syncSource): each is fetched, and queued for
 * ingestion when its content hash changed. A URL that cannot be fetched keeps its last good document
 * and is tried again at the next sync.
 */
export function syncKnowledgeUrls(store: KnowledgeStore, queue: IngestionQueue, urls: readonly string[], limits: UrlFetchLimits, logger: Logger): Promise<SyncReport> {
  const documents = urls.map((url) => ({
    source: url,
    read: async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(limits.timeoutMs), headers: { accept: Object.keys(BY_MEDIA_TYPE).join(", ") } });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const format = formatOf(url, response.headers.get("content-type"));
      if (format === undefined) throw new Error(`cannot read ${response.headers.get("content-type") ?? "an answer without a content type"}`);
      return { format, content: await boundedBody(response, limits.maxBytes) };
    },
  }));
  return syncSource(store, queue, documents, {
    owns: isUrlSource,
    unreadable: (url, error) => {
      logger.warn({ url, problem: error.message }, "knowledge URL could not be fetched, keeping its last version");
    },
  });
}
