import type { TermFrequencies } from "../storage/types.js";
import type { Passage } from "./knowledge.js";
import { termMatcher } from "./text.js";

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
  /** The largest share of the question's term weight that one of the best passages mentions (title, heading or text), 0 to 1. */
  coverage: number;
  /** The best cosine similarity of those passages to the question, when vectors were searched. */
  similarity: number | undefined;
  /** Whether the passages are evidence enough to answer from. */
  sufficient: boolean;
}

/**
 * Whether the retrieved passages can answer the question. BM25 ranks whatever shares a word with the
 * question, and its raw score grows with the question's length; the share of the question's weight
 * a passage covers does not, so one threshold holds for short and long questions alike. With vectors,
 * a passage close enough in meaning counts as well (paraphrases share few words).
 */
export function assessEvidence(weights: ReadonlyMap<string, number>, passages: readonly Passage[], settings: AbstentionSettings): Evidence {
  const terms = [...weights.keys()];
  const weightOf = [...weights.values()];
  const total = weightOf.reduce((sum, weight) => sum + weight, 0);
  const mentioned = termMatcher(terms);
  let coverage = 0;
  let similarity: number | undefined;
  for (const passage of passages.slice(0, EVIDENCE_PASSAGES)) {
    let covered = 0;
    for (const index of mentioned(`${passage.title}\n${passage.heading}\n${passage.text}`)) covered += weightOf[index] ?? 0;
    if (total > 0) coverage = Math.max(coverage, covered / total);
    if (passage.similarity !== undefined) similarity = Math.max(similarity ?? -1, passage.similarity);
  }
  const sufficient =
    !settings.enabled || (passages.length > 0 && (coverage >= settings.minCoverage || (similarity !== undefined && similarity >= settings.minSimilarity)));
  return { coverage, similarity, sufficient };
}
