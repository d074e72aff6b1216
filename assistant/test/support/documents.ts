import { constants, crc32, deflateRawSync } from "node:zlib";

/**
 * Real .pdf and .docx files made from text, so parsing is tested on the formats themselves without
 * binary fixtures: a PDF 1.4 with Helvetica text lines (a line given as cells is a table row), one
 * page per entry, and an Office Open XML package (a stored ZIP) whose headings carry Word's built-in
 * heading styles, with tables.
 */
export function pdfOf(pages: (string | string[])[][]): Buffer {
  const escape = (line: string): string => line.replace(/[\\()]/g, (c) => `\\${c}`);
  // A line given as cells is a table row: each cell placed 150 points right of the one before.
  const shown = (line: string | string[]): string =>
    typeof line === "string" ? `(${escape(line)}) Tj` : line.map((cell, column) => `${column === 0 ? "" : "150 0 Td "}(${escape(cell)}) Tj`).join(" ") + ` ${-150 * (line.length - 1)} 0 Td`;
  return pdfOfContents(pages.map((lines) => `BT /F1 12 Tf 14 TL 72 720 Td ${lines.map((line) => `${shown(line)} T*`).join(" ")} ET`));
}

/** A PDF with one page per content stream: as written, or FlateDecode-compressed when deflated. */
export function pdfOfContents(contents: (string | Deflated)[]): Buffer {
  const objects: string[] = ["", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"];
  const add = (body: string): number => objects.push(body);
  const kids = contents.map((content) => {
    const [data, filter] = typeof content === "string" ? [content, ""] : [zlibData(content).toString("latin1"), " /Filter /FlateDecode"];
    const stream = add(`<< /Length ${Buffer.byteLength(data, "latin1")}${filter} >>\nstream\n${data}\nendstream`);
    return add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${stream} 0 R >>`);
  });
  objects[0] = "<< /Type /Catalog /Pages 2 0 R >>";
  objects[1] = `<< /Type /Pages /Kids [${kids.map((kid) => `${kid} 0 R`).join(" ")}] /Count ${kids.length} >>`;
  let out = "%PDF-1.4\n";
  const offsets = objects.map((body, index) => {
    const offset = Buffer.byteLength(out, "latin1");
    out += `${index + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((offset) => `${String(offset).padStart(10, "0")} 00000 n \n`).join("")}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/**
 * Literal text, or a text repeated to `bytes` in all (a multiple of a mebibyte, the text's length
 * dividing one): the parts of a bomb.
 */
export type DeflatedPart = string | { repeat: string; bytes: number };

export interface Deflated {
  /** Raw deflate data. */
  raw: Buffer;
  size: number;
  crc32: number;
  adler32: number;
}

const MEBIBYTE = 1 << 20;
const ADLER_MOD = 65521;

/**
 * Raw deflate data of `parts`, made by compressing each part (a run: one mebibyte of it) once and
 * repeating its blocks, so a test builds a bomb that inflates to gigabytes in milliseconds. Each part
 * ends on a full flush (no final block, no back-references across it), so the blocks concatenate.
 */
export function deflated(parts: DeflatedPart[]): Deflated {
  const blocks: Buffer[] = [];
  let size = 0;
  let crc = 0;
  let [a, b] = [1, 0];
  for (const part of parts) {
    const chunk = typeof part === "string" ? Buffer.from(part, "latin1") : Buffer.alloc(MEBIBYTE, part.repeat, "latin1");
    const times = typeof part === "string" ? 1 : part.bytes / MEBIBYTE;
    const block = deflateRawSync(chunk, { finishFlush: constants.Z_FULL_FLUSH });
    // Adler-32 over the chunk from (a, b): a grows by the sum of its bytes, b by length·a plus their weighted sum.
    let [sum, weighted] = [0, 0];
    chunk.forEach((byte, index) => {
      sum += byte;
      weighted += (chunk.length - index) * byte;
    });
    for (let time = 0; time < times; time += 1) {
      blocks.push(block);
      crc = crc32(chunk, crc);
      b = (b + ((chunk.length * a) % ADLER_MOD) + (weighted % ADLER_MOD)) % ADLER_MOD;
      a = (a + sum) % ADLER_MOD;
    }
    size += chunk.length * times;
  }
  // An empty final block (fixed Huffman codes: the final bit, the block type, the end-of-block code).
  blocks.push(Buffer.from([0x03, 0x00]));
  return { raw: Buffer.concat(blocks), size, crc32: crc, adler32: ((b << 16) | a) >>> 0 };
}

/** Deflate data in the zlib format that PDF's FlateDecode reads. */
function zlibData({ raw, adler32 }: Deflated): Buffer {
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(adler32);
  return Buffer.concat([Buffer.from([0x78, 0x9c]), raw, trailer]);
}

/** Little-endian fields of 2 or 4 bytes, in order. */
function fields(...values: [2 | 4, number][]): Buffer {
  const buffer = Buffer.alloc(values.reduce((total, [size]) => total + size, 0));
  let offset = 0;
  for (const [size, value] of values) {
    if (size === 2) buffer.writeUInt16LE(value, offset);
    else buffer.writeUInt32LE(value, offset);
    offset += size;
  }
  return buffer;
}

function storedEntry(text: string): { data: Buffer; method: number; crc: number; size: number } {
  const data = Buffer.from(text, "utf8");
  return { data, method: 0, crc: crc32(data), size: data.length };
}

/** A ZIP archive with its entries stored uncompressed, or deflated as given (UTF-8 names). */
function zip(entries: Record<string, string | Deflated>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const { data, method, crc, size } = typeof content === "string" ? storedEntry(content) : { data: content.raw, method: 8, crc: content.crc32, size: content.size };
    const fileName = Buffer.from(name, "utf8");
    // version, flags (UTF-8), method, time, date, CRC-32, sizes, name length, extra length
    const common: [2 | 4, number][] = [[2, 20], [2, 0x0800], [2, method], [2, 0], [2, 0], [4, crc], [4, data.length], [4, size], [2, fileName.length], [2, 0]];
    const local = Buffer.concat([fields([4, 0x04034b50], ...common), fileName, data]);
    // + comment length, disk, internal and external attributes, offset of the local header
    centrals.push(fields([4, 0x02014b50], [2, 20], ...common, [2, 0], [2, 0], [2, 0], [4, 0], [4, offset]), fileName);
    locals.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(centrals);
  const count = Object.keys(entries).length;
  const end = fields([4, 0x06054b50], [2, 0], [2, 0], [2, count], [2, count], [4, directory.length], [4, offset], [2, 0]);
  return Buffer.concat([...locals, directory, end]);
}

export type DocxBlock = { heading: string; level?: 1 | 2 } | { paragraph: string } | { table: string[][] };

const xmlText = (text: string): string => text.replace(/[<>&]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;" })[c] ?? c);

export function docxOf(blocks: DocxBlock[]): Buffer {
  const body = blocks
    .map((block) => {
      if ("heading" in block) return `<w:p><w:pPr><w:pStyle w:val="Heading${block.level ?? 1}"/></w:pPr><w:r><w:t>${xmlText(block.heading)}</w:t></w:r></w:p>`;
      const paragraph = (text: string): string => `<w:p><w:r><w:t xml:space="preserve">${xmlText(text)}</w:t></w:r></w:p>`;
      if ("paragraph" in block) return paragraph(block.paragraph);
      return `<w:tbl>${block.table.map((row) => `<w:tr>${row.map((cell) => `<w:tc>${paragraph(cell)}</w:tc>`).join("")}</w:tr>`).join("")}</w:tbl>`;
    })
    .join("");
  return docxPackage(`${DOCUMENT_XML_START}${body}${DOCUMENT_XML_END}`);
}

const WORD_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
export const DOCUMENT_XML_START = `<?xml version="1.0" encoding="UTF-8"?><w:document ${WORD_NS}><w:body>`;
export const DOCUMENT_XML_END = "</w:body></w:document>";

/** A .docx around its word/document.xml, stored or deflated. */
export function docxPackage(documentXml: string | Deflated): Buffer {
  const ns = WORD_NS;
  return zip({
    "[Content_Types].xml":
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
      '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>',
    "_rels/.rels":
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    "word/_rels/document.xml.rels":
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
    "word/styles.xml": `<?xml version="1.0" encoding="UTF-8"?><w:styles ${ns}>${[1, 2]
      .map((level) => `<w:style w:type="paragraph" w:styleId="Heading${level}"><w:name w:val="heading ${level}"/></w:style>`)
      .join("")}</w:styles>`,
    "word/document.xml": documentXml,
  });
}
