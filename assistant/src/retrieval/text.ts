/**
 * Text analysis shared by indexing and querying, so both sides produce the same terms.
 * Chinese has no spaces, so words come from ICU's dictionary segmenter (`Intl.Segmenter`); the
 * segmented words are joined by spaces into the FTS5 column, whose `porter` tokenizer then stems
 * English words.
 */
const segmenter = new Intl.Segmenter("zh", { granularity: "word" });

const HAN = /\p{Script=Han}/gu;
const LATIN = /[A-Za-z]/g;

export type Language = "zh" | "en";

/** Chinese when Han characters carry at least as much of the text as Latin letters do (a Han character ~ a word). */
export function detectLanguage(text: string): Language {
  const han = text.match(HAN)?.length ?? 0;
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

const LATIN_WORD = /[a-z0-9]+/g;

/**
 * A light English suffix stemmer for matching sentences against a query ("approves" ~ "approved").
 * The index itself stems with FTS5's Porter tokenizer; this only has to agree with itself.
 */
export function stem(word: string): string {
  const stemmed = word.replace(/(?:ing|ed|es|s)$/, "");
  return stemmed.length >= 3 ? stemmed : word;
}

/**
 * Whether `text` mentions `term`: Han terms as substrings (Chinese has no spaces to respect),
 * other terms as whole stemmed words. Cheap enough to run on every sentence of every passage.
 */
export function matcher(text: string): (term: string) => boolean {
  const lower = text.normalize("NFKC").toLowerCase();
  const latin = new Set((lower.match(LATIN_WORD) ?? []).map(stem));
  return (term) => (/\p{Script=Han}/u.test(term) ? lower.includes(term) : latin.has(stem(term)));
}

export function indexTerms(text: string): string {
  return words(text).join(" ");
}

/**
 * Function words carry no topic: left in an OR query they would match nearly every passage and make
 * "nothing relevant found" impossible to detect.
 */
const STOPWORDS = new Set(
  (
    "a an and are as at be but by can could do does did for from had has have how i in is it its me my of on or our " +
    "please should so than that the their them then there these they this those to us was we were what when where " +
    "which who whom why will with would you your tell about " +
    "的 了 是 在 我 你 您 他 她 它 们 我们 你们 吗 呢 吧 啊 呀 么 什么 怎么 怎样 如何 请问 请 能 能否 可以 一个 这 那 这个 那个 " +
    "有 和 与 及 或 也 都 就 把 被 对 为 为什么 哪 哪些 哪个 多少 帮 帮我 告诉 一下 给 让 要 会 还 又 很"
  ).split(" "),
);

/** Distinct content terms of a query, capped so a hostile query cannot build an enormous MATCH expression. */
export function queryTerms(text: string, max = 64): string[] {
  return [...new Set(words(text))].filter((word) => !STOPWORDS.has(word)).slice(0, max);
}

/**
 * A rough token count (a Han character ~ one token, other text ~ four characters a token), good
 * enough to budget conversation memory without shipping a model-specific tokenizer.
 */
export function estimateTokens(text: string): number {
  const han = text.match(HAN)?.length ?? 0;
  return han + Math.ceil((text.length - han) / 4);
}
