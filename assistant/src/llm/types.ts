import type { Passage } from "../retrieval/knowledge.js";
import type { Language } from "../retrieval/text.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export type Intent = "question" | "capabilities";

export interface ModelRequest {
  /** The assembled prompt: system prompt with numbered passages, trimmed history, the user's message. */
  messages: ChatMessage[];
  question: string;
  /** Passage n of the prompt is `passages[n - 1]`; citations `[n]` refer to it. */
  passages: Passage[];
  language: Language;
  intent: Intent;
  documentCount: number;
  signal: AbortSignal;
}

export type ModelEvent = { type: "delta"; text: string } | { type: "usage"; promptTokens: number; completionTokens: number };

export interface ModelProvider {
  readonly provider: string;
  readonly model: string;
  generate(request: ModelRequest): AsyncIterable<ModelEvent> | Iterable<ModelEvent>;
  /** Whether the model can serve requests now (an upstream endpoint is reachable). */
  ready(): Promise<boolean>;
}

export class ModelUnavailableError extends Error {
  override readonly name = "ModelUnavailableError";
}
