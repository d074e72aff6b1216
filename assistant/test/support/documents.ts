import { crc32 } from "node:zlib";

/**
 * Real .pdf and .docx files made from text, so parsing is tested on the formats themselves without
 * binary fixtures: a PDF 1.4 with Helvetica text lines (a line given as cells is a table row), one
 * page per entry, and an Office Open XML package (a stored ZIP) whose headings carry Word's built-in
 * heading styles, with tables.
 */
export function pdfOf(pages: (string | string[])[][]): Buffer {
  const objects: string[] = ["", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"];
  const add = (body: string): number => objects.push(body);
  const escape = (line: string): string => line.replace(/[\\()]/g, (c) => `\\${c}`);
  const kids = pages.map((lines) => {
    // A line given as cells is a table row: each cell placed 150 points right of the one before.
    const shown = (line: string | string[]): string =>
      typeof line === "string" ? `(${escape(line)}) Tj` : line.map((cell, column) => `${column === 0 ? "" : "150 0 Td "}(${escape(cell)}) Tj`).join(" ") + ` ${-150 * (line.length - 1)} 0 Td`;
    const content = `BT /F1 12 Tf 14 TL 72 720 Td ${lines.map((line) => `${shown(line)} T*`).join(" ")} ET`;
    const stream = add(`<< /Length ${Buffer.byteLength(content, "latin1")} >>\nstream\n${content}\nendstream`);
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

/** A ZIP archive with its entries stored uncompressed (UTF-8 names). */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const data = Buffer.from(text, "utf8");
    const fileName = Buffer.from(name, "utf8");
    // version, flags (UTF-8), method (stored), time, date, CRC-32, sizes, name length, extra length
    const common: [2 | 4, number][] = [[2, 20], [2, 0x0800], [2, 0], [2, 0], [2, 0], [4, crc32(data)], [4, data.length], [4, data.length], [2, fileName.length], [2, 0]];
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
  const ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
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
    "word/document.xml": `<?xml version="1.0" encoding="UTF-8"?><w:document ${ns}><w:body>${body}</w:body></w:document>`,
  });
}
