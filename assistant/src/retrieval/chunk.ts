/**
 * Structure-aware chunking. Markdown headings start sections; within a section the text is read as
 * blocks: paragraphs, lists, tables and fenced code. A paragraph's hard-wrapped lines are joined back
 * into the sentences they wrap (READMEs wrap at 72–80 columns); a line that stops well short of the
 * paragraph's width is a real break. List items and code blocks stay whole, and a table row is written
 * as `| column: value | column: value |`, so a row quoted or retrieved alone still says what its
 * numbers mean. Blocks of one section are packed into chunks up to the budget; a longer block is cut
 * between its units (sentences, items, rows, lines). With an overlap, a chunk that continues a section
 * starts with the previous chunk's last whole units (up to that many characters, and only as many as
 * still fit), so a statement cut at a chunk border is found whole in one of them.
 */
export interface Chunk {
  heading: string;
  text: string;
}

const CHINESE_STOPS = "。！？；";
// A Latin semicolon joins the halves of one statement ("port 8080 by default; set PORT to change it");
// the Chinese one separates the clauses of long enumerations, which read whole on their own.
const LATIN_STOPS = ".!?";
const WHITESPACE = /\s/;
/** Abbreviations whose full stop ends no sentence ("e.g. the port", "see No. 5"). */
const ABBREVIATION = /(?:^|\s)(?:e\.g|i\.e|etc|vs|cf|approx|incl|no|nr|fig|mr|mrs|ms|dr|st)\.$/i;
const FENCE = /^\s*(```|~~~)/;
const LIST_ITEM = /^\s*(?:[-*+•]|\d{1,3}[.)])\s+\S/;
const TABLE_ROW = /^\| .* \|$/;

/**
 * A line's sentences. One ends at a run of Chinese stops, or at a run of Latin stops before
 * whitespace or the end, so "v1.2" and "example.com" stay whole, and not after an abbreviation.
 * Scanned in one pass: a regular expression that takes a sentence a character at a time keeps a
 * backtracking entry per character, and a sentence of some megabytes (a one-line file) overflows its
 * stack.
 */
function splitSentences(line: string): string[] {
  const found: string[] = [];
  let start = -1;
  const end = (at: number): void => {
    const sentence = start === -1 ? "" : line.slice(start, at).trim();
    start = -1;
    if (sentence.length === 0) return;
    const previous = found.at(-1);
    if (previous?.endsWith(".") === true && ABBREVIATION.test(previous)) found[found.length - 1] = `${previous} ${sentence}`;
    else found.push(sentence);
  };
  let index = 0;
  while (index < line.length) {
    const char = line.charAt(index);
    const stops = CHINESE_STOPS.includes(char) ? CHINESE_STOPS : LATIN_STOPS.includes(char) ? LATIN_STOPS : undefined;
    if (stops === undefined) {
      if (start === -1) start = index;
      index += 1;
    } else {
      let after = index + 1;
      while (after < line.length && stops.includes(line.charAt(after))) after += 1;
      const ends = stops === CHINESE_STOPS || after === line.length || WHITESPACE.test(line.charAt(after));
      // Latin stops are sentence text except the last of a run that ends one ("?!" alone is a sentence).
      if (start === -1 && stops === LATIN_STOPS && (!ends || after - index > 1)) start = index;
      if (ends) end(after);
      index = after;
    }
  }
  end(line.length);
  return found;
}

/**
 * The units a chunk's text is quoted in: a fenced code block whole, a list item or table row whole,
 * and a paragraph line cut at sentence ends (Chinese 。！？； and Latin .!?).
 */
export function sentences(text: string): string[] {
  const units: string[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    const fence = FENCE.exec(line)?.[1];
    if (fence !== undefined) {
      const block = [line];
      while (index + 1 < lines.length) {
        index += 1;
        const next = lines[index] ?? "";
        block.push(next);
        if (next.trim().startsWith(fence)) break;
      }
      units.push(block.join("\n"));
    } else if (LIST_ITEM.test(line) || TABLE_ROW.test(line.trim())) {
      units.push(line.trim());
    } else {
      units.push(...splitSentences(line));
    }
  }
  return units;
}

const HAN_OR_CJK_PUNCTUATION = /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u;

/** Columns a line takes on a terminal: Han and fullwidth characters take two. */
function width(line: string): number {
  let columns = 0;
  for (const character of line) columns += HAN_OR_CJK_PUNCTUATION.test(character) ? 2 : 1;
  return columns;
}

/** Two wrapped pieces of one sentence: Chinese joins without a space, everything else with one. */
function joinWrapped(left: string, right: string): string {
  const last = left.at(-1) ?? "";
  const first = right[0] ?? "";
  return HAN_OR_CJK_PUNCTUATION.test(last) && HAN_OR_CJK_PUNCTUATION.test(first) ? `${left}${right}` : `${left} ${right}`;
}

/**
 * A paragraph's lines as the lines it means: hard-wrapped lines are joined. A line is wrapped when it
 * fills at least 60 % of the paragraph's widest line (and that is a real text width, 40 columns or
 * more) and does not end in a Markdown hard break; shorter lines ("Port: 8080" above "Host: db") end.
 */
function unwrap(lines: readonly string[]): string[] {
  // Not Math.max(...): a paragraph of a million lines would pass a million arguments.
  const widest = lines.reduce((most, line) => Math.max(most, width(line.trimEnd())), 0);
  const out: string[] = [];
  let current = "";
  for (const raw of lines) {
    const line = raw.trim();
    current = current === "" ? line : joinWrapped(current, line);
    const hardBreak = / {2,}$|\\$/.test(raw) || widest < 40 || width(raw.trimEnd()) < 0.6 * widest;
    if (hardBreak) {
      out.push(current.replace(/\\$/, ""));
      current = "";
    }
  }
  if (current !== "") out.push(current);
  return out;
}

const cellsOf = (line: string): string[] =>
  line
    .trim()
    .replace(/^\|/, "")
    .replace(/(?<!\\)\|$/, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll("\\|", "/"));

const TABLE_SEPARATOR = /^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$/;
const THEMATIC_BREAK = /^\s*([-*_])(?:\s*\1){2,}\s*$/;
const SETEXT_UNDERLINE = /^\s*(?:=+|-+)\s*$/;

/** A body row with its header: `| column: value | … |`; empty cells are left out. */
function tableRow(header: readonly string[], cells: readonly string[]): string {
  const pairs = cells.flatMap((cell, index) => {
    if (cell === "") return [];
    const column = header[index] ?? "";
    return [column === "" ? cell : `${column}: ${cell}`];
  });
  return pairs.length === 0 ? "" : `| ${pairs.join(" | ")} |`;
}

/** Tab-separated columns (a PDF's table, as parse.ts writes it, or a pasted spreadsheet). */
const tabbed = (line: string): string[] => line.split("\t").map((cell) => cell.trim());
const tabCells = (line: string): number => (line.includes("\t") ? tabbed(line).length : 0);

type BlockKind = "paragraph" | "list" | "table" | "code";

interface Block {
  kind: BlockKind;
  /** One a line: a paragraph's unwrapped lines, a list's items, a table's rows, or code with its fences. */
  lines: string[];
}

interface Section {
  heading: string;
  blocks: Block[];
}

function sectionsOf(text: string): Section[] {
  const sections: Section[] = [{ heading: "", blocks: [] }];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let paragraph: string[] = [];
  let list: string[] = [];
  const add = (block: Block): void => {
    if (block.lines.length > 0) sections.at(-1)?.blocks.push(block);
  };
  const flush = (): void => {
    if (paragraph.length > 0) add({ kind: "paragraph", lines: unwrap(paragraph) });
    if (list.length > 0) add({ kind: "list", lines: list });
    paragraph = [];
    list = [];
  };
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    const fence = FENCE.exec(line)?.[1];
    if (heading !== null) {
      flush();
      sections.push({ heading: (heading[1] ?? "").trim(), blocks: [] });
    } else if (fence !== undefined) {
      flush();
      const code = [line.trimEnd()];
      while (index + 1 < lines.length) {
        index += 1;
        const next = (lines[index] ?? "").trimEnd();
        code.push(next);
        if (next.trim().startsWith(fence)) break;
      }
      if (!(code.at(-1) ?? "").trim().startsWith(fence) || code.length === 1) code.push(fence);
      add({ kind: "code", lines: code });
    } else if (paragraph.length === 0 && list.length === 0 && line.trim() !== "" && !LIST_ITEM.test(line) && SETEXT_UNDERLINE.test(lines[index + 1] ?? "")) {
      sections.push({ heading: line.trim(), blocks: [] });
      index += 1;
    } else if (line.includes("|") && (lines[index + 1] ?? "").includes("|") && TABLE_SEPARATOR.test(lines[index + 1] ?? "")) {
      flush();
      const header = cellsOf(line);
      const rows: string[] = [];
      index += 1;
      while (index + 1 < lines.length && (lines[index + 1] ?? "").includes("|") && (lines[index + 1] ?? "").trim() !== "") {
        index += 1;
        const row = tableRow(header, cellsOf(lines[index] ?? ""));
        if (row !== "") rows.push(row);
      }
      add({ kind: "table", lines: rows });
    } else if (tabCells(line) >= 2 && tabCells(lines[index + 1] ?? "") === tabCells(line)) {
      flush();
      const header = tabbed(line);
      const rows: string[] = [];
      while (index + 1 < lines.length && tabCells(lines[index + 1] ?? "") === header.length) {
        index += 1;
        const row = tableRow(header, tabbed(lines[index] ?? ""));
        if (row !== "") rows.push(row);
      }
      add({ kind: "table", lines: rows });
    } else if (line.trim() === "" || THEMATIC_BREAK.test(line)) {
      flush();
    } else if (LIST_ITEM.test(line)) {
      if (paragraph.length > 0) flush();
      list.push(line.trim());
    } else if (list.length > 0) {
      // A wrapped list item goes on under its marker.
      list[list.length - 1] = joinWrapped(list.at(-1) ?? "", line.trim());
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return sections;
}

/**
 * `units` packed into pieces of at most `maxChars`, joined by `separator`; a unit longer than that is
 * cut into pieces of its own.
 */
function packed(units: readonly string[], maxChars: number, separator: string): string[] {
  const pieces: string[] = [];
  let current = "";
  for (const unit of units) {
    for (let start = 0; start < unit.length; start += maxChars) {
      const part = unit.slice(start, start + maxChars);
      const joined = current === "" ? part : `${current}${separator}${part}`;
      if (joined.length > maxChars && current !== "") {
        pieces.push(current);
        current = part;
      } else {
        current = joined;
      }
    }
  }
  if (current !== "") pieces.push(current);
  return pieces;
}

/**
 * A block as text, cut between its units into pieces of at most `maxChars`: a paragraph between its
 * lines, and a line too long for a piece between its sentences; a list between items, a table between
 * rows, a code block between lines, each piece of code fenced again.
 */
function piecesOf(block: Block, maxChars: number): string[] {
  const whole = block.lines.join("\n");
  if (whole.length <= maxChars) return [whole];
  if (block.kind === "code") {
    const open = block.lines[0] ?? "```";
    const close = block.lines.at(-1) ?? "```";
    const budget = Math.max(1, maxChars - open.length - close.length - 2);
    return packed(block.lines.slice(1, -1), budget, "\n").map((code) => `${open}\n${code}\n${close}`);
  }
  const units = block.kind === "paragraph" ? block.lines.flatMap((line) => (line.length <= maxChars ? [line] : packed(splitSentences(line), maxChars, " "))) : block.lines;
  return packed(units, maxChars, "\n");
}

/** The last whole units of `text` that fit in `budget` characters, joined by spaces. */
function tailSentences(text: string, budget: number): string {
  const kept: string[] = [];
  let length = -1;
  for (const sentence of sentences(text).reverse()) {
    if (sentence.includes("\n") || length + 1 + sentence.length > budget) break;
    kept.unshift(sentence);
    length += 1 + sentence.length;
  }
  return kept.join(" ");
}

export function chunkText(text: string, maxChars: number, overlapChars = 0): Chunk[] {
  const chunks: Chunk[] = [];
  for (const section of sectionsOf(text)) {
    let current = "";
    for (const piece of section.blocks.flatMap((block) => piecesOf(block, maxChars))) {
      if (current !== "" && current.length + piece.length + 2 > maxChars) {
        chunks.push({ heading: section.heading, text: current });
        const carried = overlapChars === 0 ? "" : tailSentences(current, Math.min(overlapChars, maxChars - piece.length - 2));
        current = carried === "" ? piece : `${carried}\n\n${piece}`;
      } else {
        current = current === "" ? piece : `${current}\n\n${piece}`;
      }
    }
    if (current !== "") chunks.push({ heading: section.heading, text: current });
  }
  return chunks;
}

/** The first Markdown heading, else the file name without its extension. */
export function titleOf(text: string, fileName: string): string {
  const heading = /^#\s+(.+)$/m.exec(text);
  return heading?.[1]?.trim() ?? fileName.replace(/\.[^.]+$/, "");
}
