import type { Passage } from "../retrieval/knowledge.js";
import { estimateTokens, type Language } from "../retrieval/text.js";

/** A function call the model asks for; `arguments` is the JSON text exactly as the model wrote it. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A function offered to the model (OpenAI function calling). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ToolCall[] }
  | { role: "tool"; toolCallId: string; content: string };

/** The prompt's size in tokens by estimate, for a model server that reports no usage. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return estimateTokens(messages.map((message) => message.content).join("\n"));
}

export type Intent = "question" | "capabilities";

export interface ModelRequest {
  /** The assembled prompt: system prompt with numbered passages, trimmed history, the user's message. */
  messages: ChatMessage[];
  /**
   * The user's message as written, before masking: for a model that runs in this process (the
   * extractive one matches it against the passages). A provider that calls out sends `messages` only.
   */
  question: string;
  /** Passage n of the prompt is `passages[n - 1]`; citations `[n]` refer to it. */
  passages: Passage[];
  language: Language;
  /** The weight of each of the question's search terms (evidence.ts), for choosing what to quote. */
  termWeights: ReadonlyMap<string, number>;
  intent: Intent;
  documentCount: number;
  /** Functions the model may call; providers without function calling ignore them. */
  tools: ToolSpec[];
  /** Whether the reply is read as it is generated; when not, a provider may ask for it whole. */
  stream: boolean;
  signal: AbortSignal;
}

export type ModelEvent =
  | { type: "delta"; text: string }
  | { type: "usage"; promptTokens: number; completionTokens: number }
  | { type: "tool_calls"; calls: ToolCall[] };

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

/** The model ended its answer without a word: an upstream fault, never an empty reply to the user. */
export class ModelEmptyReplyError extends Error {
  override readonly name = "ModelEmptyReplyError";
}
