import OpenAI from "openai";
import type { ModelConfig } from "../config/schema.js";
import type { ModelEvent, ModelProvider } from "./types.js";
import { ModelUnavailableError } from "./types.js";

/**
 * Any OpenAI-compatible endpoint (vLLM, Ollama, OpenAI, DeepSeek, Qwen) through the official SDK,
 * which owns the timeout and the retries with exponential backoff on 408/409/429/5xx (honouring
 * Retry-After).
 */
export function openaiProvider(config: ModelConfig, apiKey: string | undefined): ModelProvider {
  const model = config.name ?? "";
  // Local servers such as Ollama need no key, but the SDK refuses to start without one.
  const client = new OpenAI({ baseURL: config.baseURL ?? null, apiKey: apiKey ?? "unused", timeout: config.timeoutMs, maxRetries: config.maxRetries });
  let readiness: { at: number; ok: boolean } | undefined;

  return {
    provider: "openai",
    model,
    async *generate(request): AsyncGenerator<ModelEvent> {
      let stream;
      try {
        stream = await client.chat.completions.create(
          {
            model,
            messages: request.messages,
            stream: true,
            stream_options: { include_usage: true },
            ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
            ...(config.topP === undefined ? {} : { top_p: config.topP }),
            // max_completion_tokens is OpenAI's newer name, but vLLM, Ollama and DeepSeek read max_tokens.
            // eslint-disable-next-line @typescript-eslint/no-deprecated
            ...(config.maxTokens === undefined ? {} : { max_tokens: config.maxTokens }),
          },
          { signal: request.signal },
        );
      } catch (error) {
        if (request.signal.aborted) return;
        throw new ModelUnavailableError(`model endpoint failed: ${(error as Error).message}`, { cause: error });
      }
      try {
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta.content;
          if (typeof text === "string" && text !== "") yield { type: "delta", text };
          if (chunk.usage) {
            yield { type: "usage", promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
          }
        }
      } catch (error) {
        if (request.signal.aborted) return;
        throw new ModelUnavailableError(`model stream failed: ${(error as Error).message}`, { cause: error });
      }
    },
    async ready() {
      const now = Date.now();
      if (readiness !== undefined && now - readiness.at < config.readinessCacheMs) return readiness.ok;
      let ok: boolean;
      try {
        await client.models.list({ timeout: Math.min(config.timeoutMs, 5000), maxRetries: 0 });
        ok = true;
      } catch {
        ok = false;
      }
      readiness = { at: now, ok };
      return ok;
    },
  };
}
