import OpenAI from "openai";
import type { EmbeddingsConfig } from "../config/schema.js";

/** The embeddings endpoint failed or answered something unusable; a later attempt may succeed. */
export class EmbeddingsUnavailableError extends Error {
  override readonly name = "EmbeddingsUnavailableError";
}

/** Texts to vectors: at ingestion for every chunk, at query time for the query. */
export interface Embedder {
  /** Names the vectors: documents indexed with another model or size are indexed again. */
  readonly fingerprint: string;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** One search query, at once or not at all: a single attempt within the query timeout. */
  embedQuery(text: string): Promise<Float32Array>;
}

/**
 * Any OpenAI-compatible `/v1/embeddings` endpoint through the official SDK, which owns the timeout
 * and retries 408/409/429/5xx with backoff. Texts go in batches of `batchSize`, one request at a
 * time, and every answer is checked: one vector per text, all of one length (`dimensions` when set).
 */
export function openaiEmbedder(config: EmbeddingsConfig, apiKey: string | undefined): Embedder {
  // Local servers need no key, but the SDK refuses to start without one.
  const client = new OpenAI({ baseURL: config.baseURL, apiKey: apiKey ?? "unused", timeout: config.timeoutMs, maxRetries: config.maxRetries });
  const request = async (input: string[], options: OpenAI.RequestOptions): Promise<Float32Array[]> => {
    let response;
    try {
      response = await client.embeddings.create(
        { model: config.model, input, encoding_format: "float", ...(config.dimensions === undefined ? {} : { dimensions: config.dimensions }) },
        options,
      );
    } catch (error) {
      throw new EmbeddingsUnavailableError(`the embeddings endpoint failed: ${(error as Error).message}`);
    }
    const vectors: Float32Array[] = [];
    for (const item of response.data) {
      if (!Number.isInteger(item.index) || item.index < 0 || item.index >= input.length || !Array.isArray(item.embedding)) {
        throw new EmbeddingsUnavailableError("the embeddings endpoint answered an item without a valid index or vector");
      }
      vectors[item.index] = Float32Array.from(item.embedding);
    }
    const length = config.dimensions ?? vectors[0]?.length ?? 0;
    for (let index = 0; index < input.length; index += 1) {
      const vector = vectors[index];
      if (vector === undefined || vector.length !== length || length === 0 || !vector.every(Number.isFinite)) {
        throw new EmbeddingsUnavailableError(`the embeddings endpoint answered no usable vector of length ${length} for input ${index}`);
      }
    }
    return vectors;
  };
  return {
    fingerprint: JSON.stringify({ model: config.model, dimensions: config.dimensions ?? null }),
    async embed(texts, signal) {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += config.batchSize) {
        vectors.push(...(await request(texts.slice(start, start + config.batchSize), signal === undefined ? {} : { signal })));
      }
      return vectors;
    },
    async embedQuery(text) {
      const [vector] = await request([text], { timeout: config.queryTimeoutMs, maxRetries: 0 });
      if (vector === undefined) throw new EmbeddingsUnavailableError("the embeddings endpoint answered no vector for the query");
      return vector;
    },
  };
}
