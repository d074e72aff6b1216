import type { Logger } from "pino";
import type { FusionSettings } from "../config/schema.js";
import type { KnowledgeStore } from "../storage/types.js";
import { readableCollections } from "./collections.js";
import type { Embedder } from "./embeddings.js";
import type { Passage, Retriever } from "./knowledge.js";
import { queryTerms } from "./text.js";

/** How many results each ranking contributes to the fusion: enough that a good second-list hit is seen. */
const CANDIDATES = 50;

interface Ranking {
  passages: readonly Passage[];
  weight: number;
}

/**
 * Sums each passage's share from every list (`share` gives it for a list's passage at an index,
 * before the list's weight) and keeps the best `topK`. A list weighed 0 adds no candidates. The
 * fused score replaces the lists' own.
 */
function fuse(rankings: readonly Ranking[], topK: number, share: (passages: readonly Passage[]) => (passage: Passage, index: number) => number): Passage[] {
  const fused = new Map<string, { passage: Passage; score: number }>();
  for (const { passages, weight } of rankings) {
    if (weight === 0) continue;
    const shareOf = share(passages);
    passages.forEach((passage, index) => {
      const entry = fused.get(passage.chunkId) ?? { passage, score: 0 };
      entry.score += weight * shareOf(passage, index);
      fused.set(passage.chunkId, entry);
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, topK)
    .map(({ passage, score }) => ({ ...passage, score }));
}

/**
 * Reciprocal-rank fusion: a passage at rank r (1-based) of a list adds weight / (k + r), so agreement
 * between the lists counts more than any single score, and the two lists' scales never need comparing.
 */
export function fuseRankings(rankings: readonly Ranking[], k: number, topK: number): Passage[] {
  return fuse(rankings, topK, () => (_passage, index) => 1 / (k + index + 1));
}

/**
 * Relative-score fusion: each list's scores scaled to 0..1 between its worst and best candidate, then
 * summed with the weights. Unlike rank fusion it keeps how far ahead a list's best is: a vector hit
 * far closer than the rest outranks a BM25 hit that only narrowly led, where reciprocal ranks would
 * call them equal. A list whose candidates all score alike gives each of them its full weight.
 */
export function fuseScores(rankings: readonly Ranking[], topK: number): Passage[] {
  return fuse(rankings, topK, (passages) => {
    const scores = passages.map((passage) => passage.score);
    const low = Math.min(...scores);
    const range = Math.max(...scores) - low;
    return (passage) => (range > 0 ? (passage.score - low) / range : 1);
  });
}

/** After the query embedding fails, searches skip vectors this long instead of each waiting for the endpoint. */
const VECTOR_PAUSE_MS = 30000;

/**
 * BM25 and vector search over the collections the caller reads, fused as `fusion` says. When the
 * embeddings endpoint cannot embed the query, the answer comes from BM25 alone rather than failing,
 * and so do the searches of the next half minute. `outbound` is what of the query may leave the
 * service (the masked text unless the model may see the original); BM25 runs here on the original.
 */
export function hybridRetriever(
  store: KnowledgeStore,
  embedder: Embedder,
  fusion: FusionSettings,
  logger: Logger,
  outbound: (query: string) => string,
): Retriever {
  let vectorsPausedUntil = 0;
  const embedQuery = async (query: string): Promise<Float32Array | undefined> => {
    if (Date.now() < vectorsPausedUntil) return undefined;
    try {
      return await embedder.embedQuery(outbound(query));
    } catch (error) {
      vectorsPausedUntil = Date.now() + VECTOR_PAUSE_MS;
      logger.warn({ err: error, pausedMs: VECTOR_PAUSE_MS }, "query embedding failed, answering from BM25 alone for now");
      return undefined;
    }
  };
  return {
    async search(tenant, query, topK) {
      const collections = readableCollections(tenant);
      const depth = Math.max(CANDIDATES, topK);
      const vectorSearch = embedQuery(query).then((vector) => (vector === undefined ? [] : store.searchVectors(collections, vector, depth)));
      const [lexical, semantic] = await Promise.all([store.searchChunks(collections, queryTerms(query), depth), vectorSearch]);
      const similarity = new Map(semantic.map((passage) => [passage.chunkId, passage.score]));
      const rankings = [
        { passages: lexical, weight: fusion.bm25Weight },
        { passages: semantic, weight: fusion.vectorWeight },
      ];
      const fused = fusion.fusion === "rrf" ? fuseRankings(rankings, fusion.rrfK, topK) : fuseScores(rankings, topK);
      return fused.map((passage) => {
        const cosine = similarity.get(passage.chunkId);
        return cosine === undefined ? passage : { ...passage, similarity: cosine };
      });
    },
    documentCount(tenant) {
      return store.countDocuments(readableCollections(tenant));
    },
    termFrequencies(tenant, terms) {
      return store.termFrequencies(readableCollections(tenant), terms);
    },
  };
}
