import { convert, type FormatCallback, type SelectorDefinition } from "html-to-text";
import mammoth from "mammoth";
import { extractTextItems, getDocumentProxy } from "unpdf";

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

/** The parts of html-to-text's DOM nodes a table needs. */
interface HtmlNode {
  type?: string;
  name?: string;
  data?: string;
  children?: HtmlNode[];
}

function textOf(node: HtmlNode): string {
  if (node.type === "text") return node.data ?? "";
  if (node.name === "br") return " ";
  return (node.children ?? []).map(textOf).join(" ");
}

function rowsOf(node: HtmlNode): HtmlNode[] {
  if (node.name === "tr") return [node];
  if (node.name === "table") return [];
  return (node.children ?? []).flatMap(rowsOf);
}

/**
 * A table becomes a Markdown pipe table, first row as header, which the chunker then writes row by row
 * with the header's names beside each value (chunk.ts). Nested tables are read as cell text.
 */
const table: FormatCallback = (element, _walk, builder) => {
  const rows = (element.children as HtmlNode[]).flatMap(rowsOf).map((row) =>
    (row.children ?? [])
      .filter((cell) => cell.name === "th" || cell.name === "td")
      .map((cell) => textOf(cell).replace(/\s+/g, " ").replaceAll("|", "/").trim()),
  );
  const [header, ...body] = rows.filter((cells) => cells.some((cell) => cell !== ""));
  if (header === undefined) return;
  builder.openBlock({ leadingLineBreaks: 2 });
  for (const cells of [header, header.map(() => "---"), ...body]) {
    builder.addLiteral(`| ${cells.join(" | ")} |`);
    builder.addLineBreak();
  }
  builder.closeBlock({ trailingLineBreaks: 2 });
};

const LEVELS = [1, 2, 3, 4, 5, 6];
const htmlOptions = {
  wordwrap: false as const,
  formatters: { ...Object.fromEntries(LEVELS.map((level) => [`heading${level}`, heading(level)])), pipeTable: table },
  selectors: [
    ...LEVELS.map((level): SelectorDefinition => ({ selector: `h${level}`, format: `heading${level}` })),
    { selector: "a", options: { ignoreHref: true } },
    { selector: "img", format: "skip" },
    { selector: "table", format: "pipeTable" },
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

/**
 * A page's text, line by line as pdf.js ends them. A blank wider than two characters of its line is a
 * gap between table columns, written as a tab: the chunker reads runs of such lines as a table.
 */
function pageText(items: readonly { str: string; width: number; fontSize: number; hasEOL: boolean }[]): string {
  return items.map((item) => (item.str.trim() === "" && item.width > 2 * item.fontSize ? "\t" : item.str) + (item.hasEOL ? "\n" : "")).join("");
}

async function pdfToText(bytes: Uint8Array): Promise<string> {
  let pages: string[];
  try {
    const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false });
    pages = (await extractTextItems(pdf)).items.map(pageText);
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
