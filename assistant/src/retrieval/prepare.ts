import type { Masker } from "../masking/mask.js";
import type { ChunkInput } from "../storage/types.js";
import { chunkText, titleOf } from "./chunk.js";
import { DEFAULT_DOCUMENT_LIMITS, type DocumentFormat, type DocumentLimits } from "./document-format.js";
import { extractText } from "./parse.js";
import { indexTerms } from "./text.js";

export interface PrepareRequest {
  format: DocumentFormat;
  content: Uint8Array;
  source: string;
  title?: string;
  chunkChars: number;
  chunkOverlapChars: number;
}

export interface PreparedDocument {
  title: string;
  chunks: ChunkInput[];
}

/**
 * Everything ingestion does before storing: extract the text, mask it when configured, chunk it and
 * segment each chunk into index terms. CPU-bound from start to end, so it runs off the event loop.
 */
export async function prepareDocument(request: PrepareRequest, mask: Masker | undefined, limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS): Promise<PreparedDocument> {
  const raw = await extractText(request.format, request.content, limits);
  const text = mask === undefined ? raw : mask(raw);
  const given = request.title === undefined ? undefined : (mask?.(request.title) ?? request.title);
  const title = given ?? titleOf(text, request.source.split("/").at(-1) ?? request.source);
  // Every chunk is indexed under its document's title too: a README's later sections rarely repeat the
  // project's name, which is what people ask by ("what port does kvstore use").
  const chunks = chunkText(text, request.chunkChars, request.chunkOverlapChars).map((chunk, ordinal) => ({
    ordinal,
    heading: chunk.heading,
    text: chunk.text,
    terms: indexTerms(`${title}\n${chunk.heading}\n${chunk.text}`),
  }));
  return { title, chunks };
}
