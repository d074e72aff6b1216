/**
 * What the rest of the service knows about documents without reading them: the formats, the limits
 * and errors of reading, and the version of their preparation. The readers themselves (parse.ts)
 * load large libraries (PDF, docx, HTML) and run only in the parsing processes; the service's own
 * process never loads them.
 */
import { configSchema } from "../config/schema.js";

/** The document formats ingestion reads; the binary ones only arrive as uploaded files. */
export const DOCUMENT_FORMATS = ["text", "markdown", "html", "pdf", "docx"] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

const BY_EXTENSION: Record<string, DocumentFormat> = {
  txt: "text",
  text: "text",
  md: "markdown",
  markdown: "markdown",
  html: "html",
  htm: "html",
  pdf: "pdf",
  docx: "docx",
};

/** The format a file name's extension stands for, if ingestion reads it. */
export function formatOfName(name: string): DocumentFormat | undefined {
  const extension = /\.([A-Za-z]+)$/.exec(name)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : BY_EXTENSION[extension];
}

/** The content itself is unusable (corrupt, encrypted, no text, over a limit): retrying cannot help. */
export class UnreadableDocumentError extends Error {
  override readonly name = "UnreadableDocumentError";
}

/** What one document may unpack to: the `knowledge.*` limits of the same names. */
export interface DocumentLimits {
  /** Characters of extracted text. */
  maxDocumentChars: number;
  /** Bytes one zip entry (of a .docx) or one compressed PDF stream inflates to. */
  maxUncompressedBytes: number;
}

const knowledgeDefaults = configSchema.properties.knowledge.properties;
/** The configuration's defaults, for callers (tools, benches) that read documents without one. */
export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = {
  maxDocumentChars: knowledgeDefaults.maxDocumentChars.default,
  maxUncompressedBytes: knowledgeDefaults.maxUncompressedBytes.default,
};

/**
 * Counted up whenever chunking or index terms change: it is part of every content hash, so each
 * document is prepared again at its next sync or upload rather than mixing old and new terms.
 * 2: structure-aware chunks (joined hard wraps, table rows with headers), Han characters and pairs,
 * the title in every chunk's terms.
 */
export const PREPARATION_VERSION = 2;
