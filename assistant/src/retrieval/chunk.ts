/**
 * Structure-aware chunking: Markdown headings start sections, blank lines separate paragraphs,
 * and a paragraph longer than the budget is cut at sentence ends (Chinese 。！？； and Latin .!?;).
 * Small neighbouring paragraphs of one section are packed together up to the budget. With an
 * overlap, a chunk that continues a section starts with the previous chunk's last whole sentences
 * (up to that many characters, and only as many as still fit), so a statement cut at a chunk border
 * is found whole in one of them.
 */
export interface Chunk {
  heading: string;
  text: string;
}

const CHINESE_STOPS = "。！？；";
const LATIN_STOPS = ".!?;";
const WHITESPACE = /\s/;

/**
 * A sentence ends at a run of Chinese stops, a newline, or a run of Latin stops before whitespace or
 * the end, so "v1.2" and "example.com" stay whole. Scanned in one pass: a regular expression that
 * takes a sentence a character at a time keeps a backtracking entry per character, and a sentence of
 * some megabytes (a one-line file) overflows its stack.
 */
export function sentences(paragraph: string): string[] {
  const found: string[] = [];
  let start = -1;
  const end = (at: number): void => {
    const sentence = start === -1 ? "" : paragraph.slice(start, at).trim();
    if (sentence.length > 0) found.push(sentence);
    start = -1;
  };
  let index = 0;
  while (index < paragraph.length) {
    const char = paragraph.charAt(index);
    const stops = CHINESE_STOPS.includes(char) ? CHINESE_STOPS : LATIN_STOPS.includes(char) ? LATIN_STOPS : undefined;
    if (char === "\n") {
      end(index + 1);
      index += 1;
    } else if (stops === undefined) {
      if (start === -1) start = index;
      index += 1;
    } else {
      let after = index + 1;
      while (after < paragraph.length && stops.includes(paragraph.charAt(after))) after += 1;
      const ends = stops === CHINESE_STOPS || after === paragraph.length || WHITESPACE.test(paragraph.charAt(after));
      // Latin stops are sentence text except the last of a run that ends one ("?!" alone is a sentence).
      if (start === -1 && stops === LATIN_STOPS && (!ends || after - index > 1)) start = index;
      if (ends) end(after);
      index = after;
    }
  }
  end(paragraph.length);
  return found;
}

function splitLong(paragraph: string, maxChars: number): string[] {
  if (paragraph.length <= maxChars) return [paragraph];
  const pieces: string[] = [];
  let current = "";
  for (const sentence of sentences(paragraph)) {
    for (let start = 0; start < sentence.length; start += maxChars) {
      const part = sentence.slice(start, start + maxChars);
      const joined = current === "" ? part : `${current} ${part}`;
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

interface Section {
  heading: string;
  paragraphs: string[];
}

function sectionsOf(text: string): Section[] {
  const sections: Section[] = [{ heading: "", paragraphs: [] }];
  let paragraph: string[] = [];
  const flush = (): void => {
    const joined = paragraph.join("\n").trim();
    const section = sections.at(-1);
    if (joined !== "" && section !== undefined) section.paragraphs.push(joined);
    paragraph = [];
  };
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading !== null) {
      flush();
      sections.push({ heading: (heading[1] ?? "").trim(), paragraphs: [] });
    } else if (line.trim() === "") {
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return sections;
}

/** The last whole sentences of `text` that fit in `budget` characters, joined by spaces. */
function tailSentences(text: string, budget: number): string {
  const kept: string[] = [];
  let length = -1;
  for (const sentence of sentences(text).reverse()) {
    if (length + 1 + sentence.length > budget) break;
    kept.unshift(sentence);
    length += 1 + sentence.length;
  }
  return kept.join(" ");
}

export function chunkText(text: string, maxChars: number, overlapChars = 0): Chunk[] {
  const chunks: Chunk[] = [];
  for (const section of sectionsOf(text)) {
    let current = "";
    for (const paragraph of section.paragraphs.flatMap((p) => splitLong(p, maxChars))) {
      if (current !== "" && current.length + paragraph.length + 2 > maxChars) {
        chunks.push({ heading: section.heading, text: current });
        const carried = overlapChars === 0 ? "" : tailSentences(current, Math.min(overlapChars, maxChars - paragraph.length - 2));
        current = carried === "" ? paragraph : `${carried}\n\n${paragraph}`;
      } else {
        current = current === "" ? paragraph : `${current}\n\n${paragraph}`;
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
