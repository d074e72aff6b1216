import assert from "node:assert/strict";
import { createMasker } from "../../src/masking/mask.js";
import { DEFAULT_DOCUMENT_LIMITS, formatOfName, UnreadableDocumentError } from "../../src/retrieval/document-format.js";
import { extractText } from "../../src/retrieval/parse.js";
import { prepareDocument } from "../../src/retrieval/prepare.js";
import { docxOf, pdfOf } from "../support/documents.js";

const bytes = (text: string): Buffer => Buffer.from(text, "utf8");

describe("document parsing", () => {
  it("knows formats by extension, case-insensitively", () => {
    assert.deepEqual(
      ["a.TXT", "b.md", "c.markdown", "d.htm", "e.html", "f.PDF", "g.docx", "h.doc", "i.png", "noext", "j.md.exe"].map(formatOfName),
      ["text", "markdown", "markdown", "html", "html", "pdf", "docx", undefined, undefined, undefined, undefined],
    );
  });

  it("turns HTML into text with Markdown headings, without scripts, styles or link targets", async () => {
    const html =
      "<html><head><title>t</title><style>p{color:red}</style><script>alert('x')</script></head><body>" +
      '<h1>差旅制度</h1><p>出差需提前申请。</p><h2>Hotels</h2><p>Book through <a href="http://evil.example">the portal</a>.</p></body></html>';
    const text = await extractText("html", bytes(html));
    assert.match(text, /^# 差旅制度\n\n出差需提前申请。\n\n## Hotels\n\nBook through the portal\.$/);
    assert.doesNotMatch(text, /alert|color|evil/);
  });

  it("reads a .docx with its headings", async () => {
    const docx = docxOf([{ heading: "Expense policy" }, { paragraph: "Receipts are required above 50 EUR." }, { heading: "报销", level: 2 }, { paragraph: "发票需在30天内提交。" }]);
    assert.equal(await extractText("docx", docx), "# Expense policy\n\nReceipts are required above 50 EUR.\n\n## 报销\n\n发票需在30天内提交。");
  });

  it("reads the text of every page of a PDF", async () => {
    const pdf = pdfOf([["Security policy", "Badges must be worn at all times."], ["Visitors (with escort) sign in at reception."]]);
    assert.equal(await extractText("pdf", pdf), "Security policy\nBadges must be worn at all times.\n\nVisitors (with escort) sign in at reception.");
  });

  it("reads tables of HTML, .docx and PDF as pipe tables, whose rows the chunker writes with their header", async () => {
    const rows = ["| Plan: Free | Price: 0 EUR |", "| Plan: Pro | Price: 20 EUR |"];
    const html = "<table><thead><tr><th>Plan</th><th>Price</th></tr></thead><tbody><tr><td><p>Free</p></td><td>0 EUR</td></tr><tr><td>Pro</td><td>20<br>EUR</td></tr></tbody></table>";
    const docx = docxOf([{ table: [["Plan", "Price"], ["Free", "0 EUR"], ["Pro", "20 EUR"]] }]);
    const pdf = pdfOf([["Pricing", ["Plan", "Price"], ["Free", "0 EUR"], ["Pro", "20 EUR"]]]);
    for (const [format, content] of [["html", bytes(html)], ["docx", docx], ["pdf", pdf]] as const) {
      const prepared = await prepareDocument({ format, content, source: `plans.${format}`, chunkChars: 800, chunkOverlapChars: 0 }, undefined);
      assert.deepEqual(prepared.chunks.at(-1)?.text.split("\n").slice(-2), rows, format);
    }
  });

  it("refuses corrupt, empty and wrongly encoded documents as unreadable", async () => {
    const cases: [Parameters<typeof extractText>[0], Buffer, RegExp][] = [
      ["pdf", bytes("%PDF-1.4 garbage"), /not a readable PDF/],
      ["pdf", pdfOf([[]]), /no text layer/],
      ["docx", bytes("PK not a zip"), /not a readable \.docx/],
      ["docx", pdfOf([["x"]]), /not a readable \.docx/],
      ["text", Buffer.from([0x66, 0xff, 0xfe]), /not valid UTF-8/],
      ["markdown", bytes("  \n\n "), /no text/],
      ["html", bytes("<script>only()</script>"), /no text/],
    ];
    for (const [format, content, message] of cases) {
      await assert.rejects(extractText(format, content), (error: unknown) => error instanceof UnreadableDocumentError && message.test(error.message), `${format}: ${content.toString("latin1").slice(0, 20)}`);
    }
  });

  it("prepares chunks with index terms, a derived or given title, and masks when asked", async () => {
    const text = "# 联系方式\n\n请联系 zhang.san@example.com 或致电 13812345678。\n";
    const plain = await prepareDocument({ format: "markdown", content: bytes(text), source: "hr/contacts.md", chunkChars: 800, chunkOverlapChars: 0 }, undefined);
    assert.equal(plain.title, "联系方式");
    assert.deepEqual(plain.chunks.map((chunk) => [chunk.ordinal, chunk.heading]), [[0, "联系方式"]]);
    assert.match(plain.chunks[0]?.terms ?? "", /联系/);
    const masked = await prepareDocument({ format: "text", content: bytes(text), source: "contacts.txt", title: "Call 13812345678", chunkChars: 800, chunkOverlapChars: 0 }, createMasker("mask", []));
    assert.equal(masked.title, "Call 138****5678");
    assert.doesNotMatch(JSON.stringify(masked), /zhang\.san@|13812345678/);
    const untitled = await prepareDocument({ format: "text", content: bytes("just text"), source: "folder/notes.txt", chunkChars: 800, chunkOverlapChars: 0 }, undefined);
    assert.equal(untitled.title, "notes");
  });

  it("chunks a 15 MB Markdown file written on one line, sentences and all, without overflowing the stack", async () => {
    for (const [line, bytes] of [["lorem ipsum dolor ", 15e6], ["v1.2 of a.b ", 1e6], ["年假需要提前申请", 1e6]] as const) {
      const text = line.repeat(Math.ceil(bytes / Buffer.byteLength(line)));
      const prepared = await prepareDocument({ format: "markdown", content: Buffer.from(text), source: "one-line.md", chunkChars: 800, chunkOverlapChars: 100 }, undefined, {
        ...DEFAULT_DOCUMENT_LIMITS,
        maxDocumentChars: text.length,
      });
      assert.ok(prepared.chunks.length >= text.length / 800, `${prepared.chunks.length} chunks of ${text.length} characters`);
      assert.ok(prepared.chunks.every((chunk) => chunk.text.length <= 800));
    }
  });
});
