import assert from "node:assert/strict";
import type { Passage } from "../../src/retrieval/knowledge.js";
import { assessEvidence, termWeights } from "../../src/retrieval/evidence.js";
import { queryTerms } from "../../src/retrieval/text.js";

const passage = (text: string, similarity?: number): Passage => ({
  chunkId: "1",
  documentId: "d",
  collection: "assistant",
  title: "taskq",
  source: "taskq.md",
  heading: "Retries",
  text,
  score: 1,
  ...(similarity === undefined ? {} : { similarity }),
});
const on = { enabled: true, minCoverage: 0.5, minSimilarity: 0.85 };
/** Term statistics of a knowledge base of `chunks` chunks in which each term occurs as often as `counts` says (0 when unsaid). */
const stats = (question: string, chunks: number, counts: Record<string, number | null>) => {
  const terms = queryTerms(question);
  return { terms, frequencies: { chunks, frequencies: terms.map((term) => (term in counts ? (counts[term] ?? null) : 0)) } };
};

describe("retrieval evidence", () => {
  it("weighs terms by inverse chunk frequency: a term no chunk holds the most, one the index cannot match not at all", () => {
    const weights = termWeights(["common", "rare", "unseen", "unmatchable"], { chunks: 100, frequencies: [60, 1, 0, null] });
    const [common, rare, unseen, unmatchable] = [...weights.values()];
    assert.ok(common !== undefined && rare !== undefined && unseen !== undefined);
    assert.ok(common < rare && rare < unseen, [...weights.values()].join(" "));
    assert.equal(unmatchable, 0);
  });

  it("takes the share of the question's weight the best passages hold, and declines below the threshold", () => {
    const question = "How many times is a failed job retried?";
    const { terms, frequencies } = stats(question, 50, { times: 5, failed: 3, job: 10, retried: 2 });
    const answering = assessEvidence(question, terms, frequencies, [passage("A job that failed is retried up to 3 times.")], on);
    assert.equal(answering.coverage, 1);
    assert.equal(answering.sufficient, true);
    const offTopic = assessEvidence(question, terms, frequencies, [passage("Workers run 4 jobs concurrently.")], on);
    assert.ok(offTopic.coverage > 0 && offTopic.coverage < 0.5, String(offTopic.coverage));
    assert.equal(offTopic.sufficient, false);
    assert.equal(assessEvidence(question, terms, frequencies, [], on).sufficient, false);
    assert.equal(assessEvidence(question, terms, frequencies, [passage("Workers run 4 jobs concurrently.")], { ...on, enabled: false }).sufficient, true);
  });

  it("counts a Chinese word by the share of its characters a passage holds", () => {
    const question = "年休假有几天？";
    const { terms, frequencies } = stats(question, 20, { 年休假: 0, 年: 3, 休: 2, 假: 3, 天: 5, 年休: 0, 休假: 0 });
    const { coverage } = assessEvidence(question, terms, frequencies, [passage("员工入职满一年后享有5天带薪年假。")], on);
    // 年休假 (the one word that counts: 有 and 几天 ask, they carry no topic) is two thirds there.
    assert.ok(coverage > 0.6 && coverage < 0.9, String(coverage));
  });

  it("lets a passage close in meaning answer a paraphrase that shares few words", () => {
    const question = "How often is a crashed task attempted again?";
    const { terms, frequencies } = stats(question, 50, { crashed: 1, task: 8, attempted: 0 });
    const lexical = assessEvidence(question, terms, frequencies, [passage("A job that failed is retried up to 3 times.", 0.9)], { ...on, minSimilarity: 2 });
    assert.equal(lexical.sufficient, false);
    const semantic = assessEvidence(question, terms, frequencies, [passage("A job that failed is retried up to 3 times.", 0.9)], on);
    assert.deepEqual([semantic.similarity, semantic.sufficient], [0.9, true]);
  });

  it("declines a question naming something no passage mentions, however well the rest matches", () => {
    const question = "Can taskq use RabbitMQ instead of Redis?";
    const { terms, frequencies } = stats(question, 50, { taskq: 4, use: 10, instead: 1, redis: 3 });
    const evidence = assessEvidence(question, terms, frequencies, [passage("taskq is a job queue backed by Redis; you can use it instead of cron.", 0.95)], on);
    assert.deepEqual([evidence.unknown, evidence.sufficient], [["RabbitMQ"], false]);
    // In a Chinese question any Latin word counts as a name; a sentence's first capital does not.
    const zh = stats("青鸟网关支持 gRPC 吗？", 50, { 青鸟: 2, 网关: 3, 支持: 5 });
    assert.deepEqual(assessEvidence("青鸟网关支持 gRPC 吗？", zh.terms, zh.frequencies, [passage("青鸟网关支持 HTTP。")], on).unknown, ["gRPC"]);
    const known = stats("Retries in taskq?", 50, { retries: 3, taskq: 4 });
    assert.deepEqual(assessEvidence("Retries in taskq?", known.terms, known.frequencies, [passage("Retries back off.")], on).unknown, []);
  });

  it("finds a nationality in the passages under its country's name, and only there", () => {
    const unknown = (question: string, text: string): string[] => {
      const { terms, frequencies } = stats(question, 50, {});
      return assessEvidence(question, terms, frequencies, [passage(text)], on).unknown;
    };
    const china = "Employees in China get seven days of Spring Festival leave.";
    assert.deepEqual(unknown("Do Chinese employees get Spring Festival leave?", china), []);
    assert.deepEqual(unknown("How much annual leave do Chinese employees get?", "在中国的员工每年享有五天年假。"), []);
    assert.deepEqual(unknown("Are French employees paid for overtime?", "In France, overtime is paid at 125 percent."), []);
    assert.deepEqual(unknown("Do Portuguese staff get a meal allowance?", "Staff in Portugal get a meal allowance."), []);
    assert.deepEqual(unknown("What holidays do Japanese staff get?", "Staff in Japan get Golden Week."), []);
    assert.deepEqual(unknown("Do Canadian staff get dental cover?", "Dental cover for staff in Canada is provided by the company."), []);
    // Another country, or a word that only begins like one, is no answer.
    assert.deepEqual(unknown("How much leave do Chinese employees get?", "Employees in Germany receive 30 days of leave."), ["Chinese"]);
    assert.deepEqual(unknown("Do Indian employees get Diwali leave?", "Diwali leave is granted to individual employees on request."), ["Indian"]);
    assert.deepEqual(unknown("Can taskq use Redis?", "taskq redirects failed jobs to a dead-letter queue."), ["Redis"]);
  });

  it("asks the passages, not the whole knowledge base, for the names, in any inflection or spelling", () => {
    // Another document names PostgreSQL; the scheduler's passages do not.
    const question = "星轨调度支持 PostgreSQL 数据库吗？";
    const { terms, frequencies } = stats(question, 50, { 星轨: 3, 调度: 3, 支持: 5, postgresql: 4, 数据库: 6 });
    const scheduler = passage("星轨调度支持 MySQL 8.0 作为元数据库。");
    assert.deepEqual(assessEvidence(question, terms, frequencies, [scheduler], on).unknown, ["PostgreSQL"]);
    assert.deepEqual(assessEvidence(question, terms, frequencies, [scheduler, passage("pgbackup backs up PostgreSQL 13 to 17.")], on).unknown, []);
    const spelled = "Which GPUs and WiFi does the HTTP/2 gateway use?";
    const spelling = stats(spelled, 50, { gpus: 1, wifi: 1, http: 2 });
    assert.deepEqual(assessEvidence(spelled, spelling.terms, spelling.frequencies, [passage("One GPU; the Wi-Fi is corp-guest. HTTP/2 is on.")], on).unknown, []);
    const http3 = stats("Does it speak HTTP/3?", 50, { speak: 1, http: 2, 3: 9 });
    assert.deepEqual(assessEvidence("Does it speak HTTP/3?", http3.terms, http3.frequencies, [passage("HTTP/2 and HTTP 1.1 are on.")], on).unknown, ["HTTP/3"]);
  });
});
