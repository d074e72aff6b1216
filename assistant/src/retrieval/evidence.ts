import type { TermFrequencies } from "../storage/types.js";
import type { Passage } from "./knowledge.js";
import { hasWordStarting, nationalityForms } from "./nationality.js";
import { contentWords, foldText, termMatcher } from "./text.js";

/** When the knowledge base is taken not to answer a question (the `knowledge.abstention` settings). */
export interface AbstentionSettings {
  enabled: boolean;
  /** The least share of the question's term weight one of the best passages must mention. */
  minCoverage: number;
  /** Or, with vector search, the least cosine similarity of the best passage to the question. */
  minSimilarity: number;
}

/** The passages that count as evidence: the answer is nearly always in the first few. */
const EVIDENCE_PASSAGES = 3;

/**
 * Each query term's weight: its inverse chunk frequency, as BM25 weighs it but kept positive
 * (Lucene's form). A term no chunk contains weighs the most, since a question about something the
 * knowledge base never mentions is exactly what it cannot answer; one the index makes nothing of
 * weighs nothing.
 */
export function termWeights(terms: readonly string[], { chunks, frequencies }: TermFrequencies): Map<string, number> {
  return new Map(
    terms.map((term, index) => {
      const frequency = frequencies[index];
      return [term, frequency === null || frequency === undefined ? 0 : Math.log(1 + (chunks - frequency + 0.5) / (frequency + 0.5))];
    }),
  );
}

export interface Evidence {
  /** The largest share of the question's word weight that one of the best passages covers (title, heading or text), 0 to 1. */
  coverage: number;
  /** The best cosine similarity of those passages to the question, when vectors were searched. */
  similarity: number | undefined;
  /** Names in the question that none of the passages mentions. */
  unknown: string[];
  /** Whether the passages are evidence enough to answer from. */
  sufficient: boolean;
}

const HAN = /\p{Script=Han}/u;

/**
 * How much of `words`' weight a folded text covers: a Latin word wholly when it is there in any
 * inflection, a Chinese word by the share of its characters there (年休假 is two thirds in a text
 * about 年假: Chinese paraphrases keep most characters and rarely whole words).
 */
function covered(words: readonly string[], weights: readonly number[], latinMentioned: (folded: string) => Set<number>, folded: string): number {
  const latin = latinMentioned(folded);
  let sum = 0;
  words.forEach((word, index) => {
    const weight = weights[index] ?? 0;
    if (!HAN.test(word)) {
      if (latin.has(index)) sum += weight;
      return;
    }
    let present = 0;
    let characters = 0;
    for (const character of word) {
      characters += 1;
      if (folded.includes(character)) present += 1;
    }
    sum += (weight * present) / characters;
  });
  return sum;
}

/** A word written like a name: RabbitMQ, GPU, HTTP/3, gRPC, Splunk (not first in the sentence), or Latin inside Chinese. */
const NAME = /[A-Za-z][A-Za-z0-9]*(?:[./+-][A-Za-z0-9]+)*/g;

function looksLikeName(token: string, at: number, chinese: boolean): boolean {
  if (token.length < 2) return false;
  if (chinese) return true;
  return (at > 0 && /[A-Z]/.test(token)) || /[A-Z].*[A-Z]/.test(token) || (/\d/.test(token) && /[A-Za-z]/.test(token));
}

/** What of a passage the evidence is read from: its title and heading as well as its text. */
const passageText = (passage: Passage): string => `${passage.title}\n${passage.heading}\n${passage.text}`;

/** A name or text with only its letters and digits left: HTTP/3 is http3, Wi-Fi and WiFi are both wifi. */
const squash = (folded: string): string => folded.replace(/[^\p{L}\p{N}]+/gu, "");

/**
 * The names in the question that none of the passages mentions, in any inflection or spelling
 * (GPUs for GPU, WiFi for Wi-Fi; China for Chinese, France for French). A question about a product,
 * protocol or place the evidence never names is one it cannot answer, however well its other words
 * match ("Can taskq use RabbitMQ?", "星轨调度支持 PostgreSQL 吗？" against a scheduler's README,
 * though another document names PostgreSQL).
 */
function unmentionedNames(question: string, passages: readonly Passage[], folded: (passage: Passage) => string): string[] {
  const chinese = HAN.test(question);
  const names = [...question.matchAll(NAME)].filter(({ 0: token, index }) => looksLikeName(token, index, chinese)).map(({ 0: token }) => token);
  if (names.length === 0) return names;
  const texts = passages.map(folded);
  let squashed: string[] | undefined;
  let written: string[] | undefined;
  return names.filter((token) => {
    const name = foldText(token);
    const inflected = termMatcher([name]);
    if (texts.some((text) => inflected(text).size > 0)) return false;
    squashed ??= texts.map(squash);
    const letters = squash(name);
    if (squashed.some((text) => text.includes(letters))) return false;
    const { places, stem } = nationalityForms(token);
    if (places.some((place) => texts.some((text) => text.includes(place)))) return false;
    if (stem === undefined) return true;
    written ??= passages.map(passageText);
    return !written.some((text) => hasWordStarting(text, stem));
  });
}

/**
 * Whether the retrieved passages can answer the question. BM25 ranks whatever shares a word with the
 * question, and its raw score grows with the question's length; the share of the question's word
 * weight a passage covers does not, so one threshold holds for short and long questions alike. Only
 * the question's words count here, not the character n-grams retrieval adds for Chinese, which would
 * let one common word outweigh a name the knowledge base never mentions. With vectors, a passage
 * close enough in meaning counts as well (paraphrases share few words). A name none of the passages
 * mentions declines whatever else matches.
 */
export function assessEvidence(
  question: string,
  terms: readonly string[],
  frequencies: TermFrequencies,
  passages: readonly Passage[],
  settings: AbstentionSettings,
): Evidence {
  const weights = termWeights(terms, frequencies);
  const words = contentWords(question);
  const weightOf = words.map((word) => weights.get(word) ?? 0);
  const total = weightOf.reduce((sum, weight) => sum + weight, 0);
  const latinMentioned = termMatcher(words.map((word) => (HAN.test(word) ? "" : word)));
  const foldedTexts = new Map<Passage, string>();
  const folded = (passage: Passage): string => {
    let text = foldedTexts.get(passage);
    if (text === undefined) foldedTexts.set(passage, (text = foldText(passageText(passage))));
    return text;
  };
  let coverage = 0;
  let similarity: number | undefined;
  for (const passage of passages.slice(0, EVIDENCE_PASSAGES)) {
    if (total > 0) coverage = Math.max(coverage, covered(words, weightOf, latinMentioned, folded(passage)) / total);
    if (passage.similarity !== undefined) similarity = Math.max(similarity ?? -1, passage.similarity);
  }
  const unknown = unmentionedNames(question, passages, folded);
  const sufficient =
    !settings.enabled ||
    (passages.length > 0 && unknown.length === 0 && (coverage >= settings.minCoverage || (similarity !== undefined && similarity >= settings.minSimilarity)));
  return { coverage, similarity, unknown, sufficient };
}
