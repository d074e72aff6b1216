/**
 * Text analysis shared by indexing and querying, so both sides produce the same terms.
 * Chinese has no spaces, so words come from ICU's dictionary segmenter (`Intl.Segmenter`); the
 * segmented words are joined by spaces into the FTS5 column, whose `porter` tokenizer then stems
 * English words.
 */
import { stemmer as porter } from "stemmer";

const segmenter = new Intl.Segmenter("zh", { granularity: "word" });

const HAN = /\p{Script=Han}/u;
const LATIN = /[A-Za-z]/g;

/**
 * The Han characters in `text`. A regular expression would build a string per match, and prompts run
 * to thousands of them; nearly all are in the CJK Unified Ideographs block, which is Han throughout,
 * so only other characters outside Latin and the common scripts are asked of the Unicode property.
 */
function countHan(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x2e80) continue;
    if (code >= 0x4e00 && code <= 0x9fff) {
      count += 1;
      continue;
    }
    const point = text.codePointAt(index) ?? code;
    if (point > 0xffff) index += 1;
    if (HAN.test(String.fromCodePoint(point))) count += 1;
  }
  return count;
}

export type Language = "zh" | "en";

/** Chinese when Han characters carry at least as much of the text as Latin letters do (a Han character ~ a word). */
export function detectLanguage(text: string): Language {
  const han = countHan(text);
  const latin = text.match(LATIN)?.length ?? 0;
  return han > 0 && han * 4 >= latin ? "zh" : "en";
}

/** Word-like segments, NFKC-normalised and lower-cased, in text order. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const part of segmenter.segment(text.normalize("NFKC").toLowerCase())) {
    if (part.isWordLike === true) out.push(part.segment);
  }
  return out;
}

/**
 * A word's Porter stem ("contributions" and "contribute" are both "contribut"), the algorithm FTS5's
 * `porter` tokenizer stems the index with, so matching a sentence agrees with what search matched.
 * Cached: people write in a bounded vocabulary, and a passage is matched word by word on every chat.
 */
function porterStem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    if (stems.size >= STEM_CACHE_SIZE) stems.clear();
    stemmed = porter(word);
    stems.set(word, stemmed);
  }
  return stemmed;
}
const stems = new Map<string, string>();
/** Enough for the vocabulary of a knowledge base; a flood of made-up words only empties it. */
const STEM_CACHE_SIZE = 100_000;

/** Text as matching sees it: NFKC-normalised (fullwidth ＶＰＮ is VPN) and lower-cased. */
export function foldText(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

const isWordCode = (code: number): boolean => (code >= 97 && code <= 122) || (code >= 48 && code <= 57);

/** A Latin query term: its Porter stem, and the start it shares with every word that stems alike. */
interface LatinTerm {
  stem: string;
  prefix: string;
  indices: number[];
}

/** The longest start `word` and its stem share ("carr" of carry and carri): every inflection begins with it. */
function sharedStart(word: string, stem: string): string {
  let length = 0;
  while (length < word.length && length < stem.length && word[length] === stem[length]) length += 1;
  return word.slice(0, length);
}

/**
 * Whether a word of the folded text (a run of [a-z0-9], or the term's own spelling where that has
 * other characters: wi-fi) stems like the term. The text is searched for the start all its forms
 * share, and only the words found there are stemmed: one scan of the text a term.
 */
function mentionsLatin(folded: string, { stem, prefix }: LatinTerm): boolean {
  for (let at = folded.indexOf(prefix); at !== -1; at = folded.indexOf(prefix, at + 1)) {
    if (isWordCode(folded.charCodeAt(at - 1))) continue;
    let end = at + prefix.length;
    while (isWordCode(folded.charCodeAt(end))) end += 1;
    if (porterStem(folded.slice(at, end)) === stem) return true;
  }
  return false;
}

/**
 * Which of `terms` a text (folded with foldText) mentions, by index: Han terms as substrings (Chinese
 * has no spaces to respect), other terms as whole words with the same Porter stem.
 */
export function termMatcher(terms: readonly string[]): (folded: string) => Set<number> {
  const hanTerms: [string, number][] = [];
  const latinTerms = new Map<string, LatinTerm>();
  terms.forEach((term, index) => {
    if (term === "") return;
    if (HAN.test(term)) {
      hanTerms.push([term, index]);
      return;
    }
    const stem = porterStem(term);
    const known = latinTerms.get(stem);
    if (known !== undefined) known.indices.push(index);
    else latinTerms.set(stem, { stem, prefix: sharedStart(term, stem) || term, indices: [index] });
  });
  const latin = [...latinTerms.values()];
  return (folded) => {
    const mentioned = new Set<number>();
    for (const term of latin) if (mentionsLatin(folded, term)) for (const index of term.indices) mentioned.add(index);
    for (const [term, index] of hanTerms) if (folded.includes(term)) mentioned.add(index);
    return mentioned;
  };
}

/**
 * The characters and character pairs of each run of Han characters, beside the segmenter's words (as
 * Elasticsearch's cjk_bigram with unigrams does beside a word analyzer): the segmenter makes 年假 one
 * word and 假 another, so a question about 假 would find nothing of a document about 年假 without
 * them. A character that is a function word on its own (的, 吗) is left out, alone and in pairs.
 */
function hanGrams(text: string): string[] {
  const grams: string[] = [];
  for (const run of text.normalize("NFKC").match(HAN_RUN) ?? []) {
    const characters = Array.from(run);
    characters.forEach((character, index) => {
      if (STOPWORDS.has(character)) return;
      grams.push(character);
      const next = characters[index + 1];
      if (next !== undefined && !STOPWORDS.has(next)) grams.push(`${character}${next}`);
    });
  }
  return grams;
}

const HAN_RUN = /\p{Script=Han}+/gu;

export function indexTerms(text: string): string {
  return [...words(text), ...hanGrams(text)].join(" ");
}

/**
 * Function words carry no topic: left in an OR query they would match nearly every passage and make
 * "nothing relevant found" impossible to detect.
 */
const STOPWORDS = new Set(
  (
    "a an and are as at be but by can could do does did for from had has have how i in is it its me my of on or our " +
    "please should so than that the their them then there these they this those to us was we were what when where " +
    "which who whom why will with would you your tell about many much get gets got need needs want any some each every " +
    "also just happen happens happened " +
    "的 了 是 在 我 你 您 他 她 它 们 我们 你们 吗 呢 吧 啊 呀 么 嘛 什么 怎么 怎样 怎么样 怎么办 如何 请问 请 能 能否 可以 一个 这 那 这个 那个 " +
    "有 和 与 及 或 也 都 就 把 被 对 为 为什么 哪 哪些 哪个 哪里 多少 几 几个 几次 几天 几年 几点 几号 多久 帮 帮我 告诉 一下 给 让 要 会 还 又 很 " +
    "是不是 能不能 可不可以 有没有 时候"
  ).split(" "),
);

/** The last query's analysis: a chat turn asks for it several times (retrieval, evidence, the extractive model). */
let lastQuery: { text: string; max: number; words: readonly string[]; terms: readonly string[] } | undefined;

/**
 * A function word written in capitals names something ("contact IT", "US employees", "IT 部门"), but
 * the index is case-folded and full of the pronoun. Searched as a phrase with the content word beside
 * it ("it purchases", "it 部门"), it finds the passages that say so, and hardly any pronoun. English
 * written all in capitals has no such words.
 */
function capitalisedPhrases(text: string): string[] {
  if (!HAS_CAPITALISED_WORD.test(text) || (!LOWERCASE_LATIN.test(text) && !HAN.test(text))) return [];
  const segments = [...segmenter.segment(text.normalize("NFKC"))].filter((part) => part.isWordLike === true).map((part) => part.segment);
  const isContent = (word: string): boolean => !STOPWORDS.has(word.toLowerCase());
  const phrases: string[] = [];
  segments.forEach((segment, index) => {
    if (!ALL_CAPITALS.test(segment) || isContent(segment)) return;
    // The word it qualifies ("IT purchases"). The word before it only when it ends the question
    // ("contact IT"): followed by another word, the pronoun is often the object of the one before
    // ("approves it within a day").
    const [before, after] = [segments[index - 1], segments[index + 1]];
    if (after !== undefined) {
      if (isContent(after)) phrases.push(`${segment} ${after}`.toLowerCase());
    } else if (before !== undefined && isContent(before)) {
      phrases.push(`${before} ${segment}`.toLowerCase());
    }
  });
  return phrases;
}
const HAS_CAPITALISED_WORD = /(?<![A-Za-z])[A-Z]{2,}(?![A-Za-z])/;
const ALL_CAPITALS = /^[A-Z]{2,}$/;
const LOWERCASE_LATIN = /[a-z]/;

function analyseQuery(text: string, max: number): { words: readonly string[]; terms: readonly string[] } {
  if (lastQuery?.text !== text || lastQuery.max !== max) {
    const content = [...new Set(words(text))].filter((word) => !STOPWORDS.has(word));
    lastQuery = { text, max, words: content, terms: [...new Set([...content, ...capitalisedPhrases(text), ...hanGrams(text)])].slice(0, max) };
  }
  return lastQuery;
}

/** A text's distinct words that carry a topic (no function words, no character n-grams). */
export function contentWords(text: string): string[] {
  return [...analyseQuery(text, 64).words];
}

/** Distinct content terms of a query, words first, capped so a hostile query cannot build an enormous MATCH expression. */
export function queryTerms(text: string, max = 64): string[] {
  return [...analyseQuery(text, max).terms];
}

/**
 * A rough token count (a Han character ~ one token, other text ~ four characters a token), good
 * enough to budget conversation memory without shipping a model-specific tokenizer.
 */
export function estimateTokens(text: string): number {
  const han = countHan(text);
  return han + Math.ceil((text.length - han) / 4);
}
