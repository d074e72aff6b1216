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

// Latin stops end a sentence only before whitespace, so "v1.2" and "example.com" stay whole.
const SENTENCE = /(?:[^。！？；.!?;\n]|[.!?;](?!\s|$))+(?:[。！？；]+|[.!?;]+(?=\s|$)|\n|$)/gu;

export function sentences(paragraph: string): string[] {
  return (paragraph.match(SENTENCE) ?? []).map((sentence) => sentence.trim()).filter((sentence) => sentence.length > 0);
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
