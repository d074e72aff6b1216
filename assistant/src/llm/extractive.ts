import { declineReply } from "./decline.js";
import { sentences } from "../retrieval/chunk.js";
import { estimateTokens, foldText, queryTerms, termMatcher, type Language } from "../retrieval/text.js";
import { ANNOUNCES, answerKinds, answersKind, ITEM, POINTS_BACK, type AnswerKind } from "./question-type.js";
import { estimatePromptTokens, type ModelEvent, type ModelProvider, type ModelRequest } from "./types.js";

/**
 * The built-in model: no network, no key. It never writes anything of its own about the topic; it
 * quotes the units of the retrieved passages (sentences, list items, table rows, code blocks) that
 * answer the question and cites them, and says plainly when the knowledge base has nothing relevant.
 */
const MAX_PASSAGES = 3;

function capabilities(language: Language, documentCount: number): string {
  if (language === "zh") {
    const loaded = documentCount > 0 ? `当前已加载 ${documentCount} 篇文档` : "目前知识库中还没有文档";
    return [
      "你好！我是企业知识库助手，我可以：",
      `1. 根据知识库回答问题（${loaded}），并用 [1]、[2] 这样的编号标注出处；`,
      "2. 在同一个会话中记住上下文，你可以接着追问；",
      "3. 用中文或英文回答。",
      "我只依据知识库的内容作答；找不到答案时会如实告诉你，不会编造。请直接提出你的问题。",
    ].join("\n");
  }
  const loaded = documentCount > 0 ? `${documentCount} documents are loaded` : "no documents are loaded yet";
  return [
    "Hello! I am the enterprise knowledge-base assistant. I can:",
    `1. Answer questions from the knowledge base (${loaded}), citing sources as [1], [2];`,
    "2. Remember the context within a conversation, so you can ask follow-up questions;",
    "3. Reply in English or Chinese.",
    "I answer only from the knowledge base; when it does not contain the answer I say so instead of guessing. What would you like to know?",
  ].join("\n");
}

/** How much a unit of the asked-for kind gains over its share of the question's weight. */
const KIND_BONUS = 0.15;
/** Other passages are quoted too, each cited, when their best unit scores at least this share of the best one. */
const ALSO_QUOTED = 0.6;
/** A unit shorter than this that answers no asked kind names a topic; the unit after it says what about it. */
const TOPIC_ONLY_CHARS = 50;
/** A second unit of a passage is quoted when it scores at least this share of the passage's best. */
const SECOND_UNIT = 0.8;
const MAX_UNITS = 3;

interface Scored {
  unit: string;
  score: number;
}

/**
 * The units of a passage that answer the question, in their order: the best one by the question's
 * term weight it covers (plus a bonus when it is of the kind asked for), a second one close to it and
 * of that kind too, and the neighbours that complete them: the unit before one that points back, the
 * announcing unit before a command and the command after one that announces it ("Run:"), and the unit
 * after one that names the topic but not the kind of answer asked for, when that one has it ("Backups
 * run on a schedule. The default is 03:00."), or after a short one that names the topic alone
 * ("Stack traces span several lines. Set …").
 */
function answerUnits(scored: readonly Scored[], kinds: readonly AnswerKind[]): string[] {
  // The best unit and the runner-up, the earlier one first among equals.
  let first = -1;
  let runnerUp = -1;
  scored.forEach(({ score }, position) => {
    if (score <= 0) return;
    if (first === -1 || score > (scored[first]?.score ?? 0)) {
      runnerUp = first;
      first = position;
    } else if (runnerUp === -1 || score > (scored[runnerUp]?.score ?? 0)) {
      runnerUp = position;
    }
  });
  if (first === -1) return [];
  const best = scored[first]?.score ?? 0;
  const second = scored[runnerUp];
  const picked = new Set([first]);
  const isKind = (unit: string): boolean => kinds.some((kind) => answersKind(unit, kind));
  // A second unit must answer the kind asked for too, and a second row or item only a question that
  // asks for several ("which formats…").
  if (
    second !== undefined &&
    second.score >= SECOND_UNIT * best &&
    (kinds.length === 0 || isKind(second.unit)) &&
    (!ITEM.test(second.unit) || kinds.includes("list"))
  ) {
    picked.add(runnerUp);
  }
  for (const position of [...picked]) {
    const unit = scored[position]?.unit ?? "";
    const next = scored[position + 1]?.unit;
    const previous = scored[position - 1]?.unit;
    if (previous !== undefined && (POINTS_BACK.test(unit) || ANNOUNCES.test(previous))) picked.add(position - 1);
    const topicOnly = kinds.length === 0 ? unit.length < TOPIC_ONLY_CHARS : !isKind(unit) && next !== undefined && isKind(next);
    if (next !== undefined && (ANNOUNCES.test(unit) || topicOnly)) picked.add(position + 1);
  }
  // A hard-wrapped line that starts like a list item ("* * *`" inside a cron expression) ends a unit in
  // the middle of a code span: the unit after it holds the rest.
  for (const position of [...picked].sort((a, b) => a - b)) {
    let end = position;
    while (opensCodeSpan(scored[end]?.unit ?? "") && scored[end + 1] !== undefined && picked.size < MAX_UNITS) picked.add((end += 1));
  }
  return [...picked]
    .sort((a, b) => a - b)
    .slice(0, MAX_UNITS)
    .map((position) => scored[position]?.unit ?? "");
}

/** Whether a unit leaves an inline code span open: an odd number of backticks outside code fences. */
function opensCodeSpan(unit: string): boolean {
  return unit.replaceAll("```", "").split("`").length % 2 === 0;
}

/** Units on one line where they are sentences; list items, rows and code each on their own lines. */
function quote(units: readonly string[], language: Language, citation: number): string {
  const blocks = units.some((unit) => unit.includes("\n") || ITEM.test(unit));
  const text = units.join(blocks ? "\n" : language === "zh" ? "" : " ");
  return text.endsWith("```") ? `${text}\n[${citation}]` : `${text} [${citation}]`;
}

export function extractiveAnswer(
  request: Pick<ModelRequest, "question" | "passages" | "language" | "intent" | "documentCount"> & Partial<Pick<ModelRequest, "termWeights">>,
): string {
  if (request.intent === "capabilities") return capabilities(request.language, request.documentCount);
  const terms = queryTerms(request.question);
  const weights = terms.map((term) => request.termWeights?.get(term) ?? 1);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const mentioned = termMatcher(terms);
  const kinds = [...answerKinds(request.question)];
  const scoredPassages = request.passages.map((passage) => {
    // Units are matched only against the terms their passage holds at all, most often a few.
    const folded = foldText(passage.text);
    const present = [...mentioned(folded)];
    const inPassage = termMatcher(present.map((index) => terms[index] ?? ""));
    // Lower-casing alone folds a unit when NFKC leaves its passage as it is, as it does nearly all text.
    const fold = folded === passage.text.toLowerCase() ? (unit: string) => unit.toLowerCase() : foldText;
    return sentences(passage.text).map((unit): Scored => {
      let covered = 0;
      if (present.length > 0) for (const index of inPassage(fold(unit))) covered += weights[present[index] ?? -1] ?? 0;
      const share = total > 0 ? covered / total : 0;
      return { unit, score: share > 0 && kinds.some((kind) => answersKind(unit, kind)) ? share + KIND_BONUS : share };
    });
  });
  const bestOf = scoredPassages.map((scored) => Math.max(0, ...scored.map((entry) => entry.score)));
  const best = Math.max(0, ...bestOf);
  const quoted: string[] = [];
  scoredPassages.forEach((scored, index) => {
    if (quoted.length >= MAX_PASSAGES || best === 0 || (bestOf[index] ?? 0) < ALSO_QUOTED * best) return;
    const units = answerUnits(scored, kinds);
    if (units.length > 0) quoted.push(quote(units, request.language, index + 1));
  });
  if (quoted.length === 0) return declineReply(request.language);
  const lead = request.language === "zh" ? "根据知识库：" : "According to the knowledge base:";
  return `${lead}\n\n${quoted.join("\n\n")}`;
}

export function extractiveProvider(): ModelProvider {
  return {
    provider: "extractive",
    model: "extractive",
    *generate(request): Generator<ModelEvent> {
      const answer = extractiveAnswer(request);
      // Paragraph-sized deltas give streaming clients the same shape of output a real model produces.
      const parts = answer.split(/(?<=\n\n)/);
      for (const text of parts) {
        if (request.signal.aborted) return;
        yield { type: "delta", text };
      }
      yield {
        type: "usage",
        promptTokens: estimatePromptTokens(request.messages),
        completionTokens: estimateTokens(answer),
      };
    },
    ready() {
      return Promise.resolve(true);
    },
  };
}
