import { convert, type FormatCallback, type SelectorDefinition } from "html-to-text";
import mammoth from "mammoth";
import { extractText as extractPdfText, getDocumentProxy } from "unpdf";

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

/** The content itself is unusable (corrupt, encrypted, no text): retrying cannot help. */
export class UnreadableDocumentError extends Error {
  override readonly name = "UnreadableDocumentError";
}

function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UnreadableDocumentError("the text is not valid UTF-8");
  }
}

/** HTML headings become Markdown headings, which the chunker starts sections at. */
const heading =
  (level: number): FormatCallback =>
  (element, walk, builder) => {
    builder.openBlock({ leadingLineBreaks: 2 });
    builder.addLiteral(`${"#".repeat(level)} `);
    walk(element.children, builder);
    builder.closeBlock({ trailingLineBreaks: 2 });
  };

const LEVELS = [1, 2, 3, 4, 5, 6];
const htmlOptions = {
  wordwrap: false as const,
  formatters: Object.fromEntries(LEVELS.map((level) => [`heading${level}`, heading(level)])),
  selectors: [
    ...LEVELS.map((level): SelectorDefinition => ({ selector: `h${level}`, format: `heading${level}` })),
    { selector: "a", options: { ignoreHref: true } },
    { selector: "img", format: "skip" },
    { selector: "table", format: "dataTable" },
  ],
};

export function htmlToText(html: string): string {
  return convert(html, htmlOptions);
}

async function docxToText(bytes: Uint8Array): Promise<string> {
  let html: string;
  try {
    ({ value: html } = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) }));
  } catch (error) {
    throw new UnreadableDocumentError(`not a readable .docx file (${(error as Error).message})`);
  }
  return htmlToText(html);
}

async function pdfToText(bytes: Uint8Array): Promise<string> {
  let pages: string[];
  try {
    const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false });
    ({ text: pages } = await extractPdfText(pdf, { mergePages: false }));
  } catch (error) {
    throw new UnreadableDocumentError(`not a readable PDF file (${(error as Error).message})`);
  }
  return pages.join("\n\n");
}

/** The document's text, headings as Markdown `#` lines where the format has them. */
export async function extractText(format: DocumentFormat, bytes: Uint8Array): Promise<string> {
  const text =
    format === "pdf" ? await pdfToText(bytes) : format === "docx" ? await docxToText(bytes) : format === "html" ? htmlToText(utf8(bytes)) : utf8(bytes);
  if (text.trim() === "") {
    throw new UnreadableDocumentError(format === "pdf" ? "the PDF has no text layer (a scanned PDF needs OCR first)" : "the document has no text");
  }
  return text;
}
