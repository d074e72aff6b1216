import type { Logger } from "pino";
import type { FusionWeights } from "../config/schema.js";
import type { KnowledgeStore } from "../storage/types.js";
import { readableCollections } from "./collections.js";
import type { Embedder } from "./embeddings.js";
import type { Passage, Retriever } from "./knowledge.js";
import { queryTerms } from "./text.js";

/** How many results each ranking contributes to the fusion: enough that a good second-list hit is seen. */
const CANDIDATES = 50;

/**
 * Reciprocal-rank fusion: a passage at rank r (1-based) of a list adds weight / (k + r), so agreement
 * between the lists counts more than any single score, and the two lists' scales never need comparing.
 * The fused score replaces the lists' own.
 */
export function fuseRankings(rankings: { passages: readonly Passage[]; weight: number }[], k: number, topK: number): Passage[] {
  const fused = new Map<string, { passage: Passage; score: number }>();
  for (const { passages, weight } of rankings) {
    passages.forEach((passage, index) => {
      const entry = fused.get(passage.chunkId) ?? { passage, score: 0 };
      entry.score += weight / (k + index + 1);
      fused.set(passage.chunkId, entry);
    });
  }
  return [...fused.values()]
    .filter((entry) => entry.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, topK)
    .map(({ passage, score }) => ({ ...passage, score }));
}

/** After the query embedding fails, searches skip vectors this long instead of each waiting for the endpoint. */
const VECTOR_PAUSE_MS = 30000;

/**
 * BM25 and vector search over the collections the caller reads, fused by reciprocal rank. When the
 * embeddings endpoint cannot embed the query, the answer comes from BM25 alone rather than failing,
 * and so do the searches of the next half minute. `outbound` is what of the query may leave the
 * service (the masked text unless the model may see the original); BM25 runs here on the original.
 */
export function hybridRetriever(
  store: KnowledgeStore,
  embedder: Embedder,
  weights: FusionWeights,
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
      return fuseRankings(
        [
          { passages: lexical, weight: weights.bm25Weight },
          { passages: semantic, weight: weights.vectorWeight },
        ],
        weights.rrfK,
        topK,
      ).map((passage) => {
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
