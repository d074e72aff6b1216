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

type InputType = "query" | "passage";

/**
 * Any OpenAI-compatible `/v1/embeddings` endpoint through the official SDK, which owns the timeout
 * and retries 408/409/429/5xx with backoff. Texts go in batches of `batchSize`, up to `concurrency`
 * requests at a time (a server computes one batch while the last one's answer travels and is parsed,
 * or on another core), and every answer is checked: one vector per text, all of one length
 * (`dimensions` when set). Queries and passages get their prefixes (E5's "query: " and "passage: "),
 * and with `inputType` the request says which it carries.
 */
export function openaiEmbedder(config: EmbeddingsConfig, apiKey: string | undefined): Embedder {
  // Local servers need no key, but the SDK refuses to start without one.
  const client = new OpenAI({ baseURL: config.baseURL, apiKey: apiKey ?? "unused", timeout: config.timeoutMs, maxRetries: config.maxRetries });
  const request = async (input: string[], kind: InputType, options: OpenAI.RequestOptions): Promise<Float32Array[]> => {
    const body: OpenAI.EmbeddingCreateParams & { input_type?: InputType } = {
      model: config.model,
      input,
      encoding_format: "float",
      ...(config.dimensions === undefined ? {} : { dimensions: config.dimensions }),
      ...(config.inputType ? { input_type: kind } : {}),
    };
    let response;
    try {
      response = await client.embeddings.create(body, options);
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
    fingerprint: JSON.stringify({
      model: config.model,
      dimensions: config.dimensions ?? null,
      ...(config.passagePrefix === "" && config.queryPrefix === "" && !config.inputType
        ? {}
        : { queryPrefix: config.queryPrefix, passagePrefix: config.passagePrefix, inputType: config.inputType }),
    }),
    async embed(texts, signal) {
      const batches: string[][] = [];
      for (let start = 0; start < texts.length; start += config.batchSize) {
        batches.push(texts.slice(start, start + config.batchSize).map((text) => `${config.passagePrefix}${text}`));
      }
      // The first failure stops the other requests: the attempt has failed either way.
      const failed = new AbortController();
      const options = { signal: signal === undefined ? failed.signal : AbortSignal.any([signal, failed.signal]) };
      const vectors: Float32Array[][] = [];
      let next = 0;
      const work = async (): Promise<void> => {
        while (next < batches.length) {
          const index = next;
          next += 1;
          vectors[index] = await request(batches[index] ?? [], "passage", options);
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.concurrency, batches.length) }, work)).catch((error: unknown) => {
        failed.abort();
        throw error;
      });
      return vectors.flat();
    },
    async embedQuery(text) {
      const [vector] = await request([`${config.queryPrefix}${text}`], "query", { timeout: config.queryTimeoutMs, maxRetries: 0 });
      if (vector === undefined) throw new EmbeddingsUnavailableError("the embeddings endpoint answered no vector for the query");
      return vector;
    },
  };
}
