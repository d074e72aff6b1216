import { convert, type FormatCallback, type SelectorDefinition } from "html-to-text";
import mammoth from "mammoth";
import { getDocumentProxy } from "unpdf";
import { oversizedPdfStream, oversizedZipEntry } from "./decompression.js";
import { DEFAULT_DOCUMENT_LIMITS, UnreadableDocumentError, type DocumentFormat, type DocumentLimits } from "./document-format.js";

const tooManyChars = (chars: string, limits: DocumentLimits) =>
  new UnreadableDocumentError(`the document has ${chars} of text, more than knowledge.maxDocumentChars (${limits.maxDocumentChars})`);

const tooMuchUnpacked = (what: string, limits: DocumentLimits) =>
  new UnreadableDocumentError(`${what} unpacks to more than knowledge.maxUncompressedBytes (${limits.maxUncompressedBytes} bytes): refused as a decompression bomb`);

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

/** Images carry no text: mammoth would otherwise inline every one of them as base64. */
const skipImages = mammoth.images.imgElement(() => Promise.resolve({ src: "" }));

async function docxToText(bytes: Uint8Array, limits: DocumentLimits): Promise<string> {
  let html: string;
  try {
    const bomb = await oversizedZipEntry(bytes, limits.maxUncompressedBytes);
    if (bomb !== undefined) throw tooMuchUnpacked(`its part ${JSON.stringify(bomb.slice(0, 100))}`, limits);
    ({ value: html } = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) }, { convertImage: skipImages }));
  } catch (error) {
    if (error instanceof UnreadableDocumentError) throw error;
    throw new UnreadableDocumentError(`not a readable .docx file (${(error as Error).message})`);
  }
  return htmlToText(html);
}

/** What pdf.js tells of a piece of a page's text that its layout needs (marked content has no `str`). */
type PageItem = { str: string; width: number; transform: number[]; hasEOL: boolean } | object;

/**
 * A page's text, line by line as pdf.js ends them. A blank wider than two characters of its line is a
 * gap between table columns, written as a tab: the chunker reads runs of such lines as a table.
 */
function pageText(items: readonly PageItem[]): string {
  return items
    .map((item) => {
      if (!("str" in item)) return "";
      const fontSize = Math.hypot(item.transform[2] ?? 0, item.transform[3] ?? 0);
      return (item.str.trim() === "" && item.width > 2 * fontSize ? "\t" : item.str) + (item.hasEOL ? "\n" : "");
    })
    .join("");
}

/** Page by page, stopping at the page that passes maxDocumentChars instead of extracting them all first. */
async function pdfToText(bytes: Uint8Array, limits: DocumentLimits): Promise<string> {
  const bomb = await oversizedPdfStream(bytes, limits.maxUncompressedBytes);
  if (bomb !== undefined) throw tooMuchUnpacked(`its stream at byte ${bomb}`, limits);
  const pages: string[] = [];
  let chars = 0;
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>> | undefined;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false });
    for (let number = 1; number <= pdf.numPages; number += 1) {
      const content = await (await pdf.getPage(number)).getTextContent();
      const page = pageText(content.items);
      chars += page.length;
      if (chars > limits.maxDocumentChars) throw tooManyChars(`${chars} characters by page ${number} of ${pdf.numPages}`, limits);
      pages.push(page);
    }
  } catch (error) {
    if (error instanceof UnreadableDocumentError) throw error;
    throw new UnreadableDocumentError(`not a readable PDF file (${(error as Error).message})`);
  } finally {
    // The preparing process parses one document after another: each one's memory goes with it.
    await pdf?.destroy();
  }
  return pages.join("\n\n");
}

/** The document's text, headings as Markdown `#` lines where the format has them. */
export async function extractText(format: DocumentFormat, bytes: Uint8Array, limits = DEFAULT_DOCUMENT_LIMITS): Promise<string> {
  const text =
    format === "pdf"
      ? await pdfToText(bytes, limits)
      : format === "docx"
        ? await docxToText(bytes, limits)
        : format === "html"
          ? htmlToText(utf8(bytes))
          : utf8(bytes);
  if (text.length > limits.maxDocumentChars) throw tooManyChars(`${text.length} characters`, limits);
  if (text.trim() === "") {
    throw new UnreadableDocumentError(format === "pdf" ? "the PDF has no text layer (a scanned PDF needs OCR first)" : "the document has no text");
  }
  return text;
}
