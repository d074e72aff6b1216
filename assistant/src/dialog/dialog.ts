import { v7 as timeOrderedUuid } from "uuid";
import type { ChatMessage, ModelProvider, ToolCall } from "../llm/types.js";
import { ModelEmptyReplyError } from "../llm/types.js";
import { outboundText, type Masker } from "../masking/mask.js";
import type { Metrics } from "../observability/metrics.js";
import { assessEvidence, termWeights, type AbstentionSettings } from "../retrieval/evidence.js";
import type { Passage, Retriever } from "../retrieval/knowledge.js";
import { detectLanguage, estimateTokens, queryTerms, type Language } from "../retrieval/text.js";
import type { SkillCaller, Skills } from "../skills/skills.js";
import { ConversationNotFoundError, type ConversationStore, type Owner, type SourceRef } from "../storage/types.js";
import { declineReply } from "../llm/decline.js";
import { detectIntent } from "./intent.js";
import { parseCommand, runCommand, runToolCalls, toolsFor, type SkillTurn } from "./skill-turn.js";

export class ChatAbortedError extends Error {
  override readonly name = "ChatAbortedError";
}

export interface DialogOptions {
  systemPrompt: string;
  topK: number;
  historyTokens: number;
  /** Whether the model may see the current message before masking (stored history never holds it). */
  modelSeesOriginal: boolean;
  abstention: AbstentionSettings;
  /** Where the passages go: the user's turn, or the system message (some chat templates drop the latter). */
  passagePlacement: "user" | "system";
}

export interface DialogDeps {
  conversations: ConversationStore;
  retriever: Retriever;
  provider: ModelProvider;
  metrics: Metrics;
  masker: Masker;
  options: DialogOptions;
  /** Offered to the model as tools and reachable by command; a turn without a caller uses none. */
  skills?: Skills;
}

/** Receives an answer while it is generated; `sources` comes first, before any delta. */
export interface AnswerSink {
  sources?(sources: SourceRef[]): void;
  delta?(text: string): void;
}

export interface ChatSink {
  start?(meta: { conversationId: string; sources: SourceRef[] }): void;
  delta?(text: string): void;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface Answer {
  reply: string;
  sources: SourceRef[];
  usage: Usage;
  /** Whether the reply answers from the knowledge base, citing it; false for a decline, a greeting or a skill's answer. */
  grounded: boolean;
}

/** A conversation opened for its next turn (DialogManager.openConversation). */
export interface OpenConversation {
  /** None for a new conversation, which the turn creates. */
  id: string | undefined;
  history: ChatMessage[];
}

export interface ChatResult extends Answer {
  conversationId: string;
}

const MAX_HISTORY_TURNS = 100;
const TITLE_GRAPHEMES = 80;
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The first TITLE_GRAPHEMES graphemes, segmenting no further: a message may run to thousands. One
 * that has no more UTF-16 units than that has no more graphemes either, and is its own title
 * (segmenting costs more than the rest of storing the turn).
 */
function titleFrom(message: string): string {
  const trimmed = message.trim();
  if (trimmed.length <= TITLE_GRAPHEMES) return trimmed;
  let title = "";
  let count = 0;
  for (const { segment } of graphemes.segment(trimmed)) {
    if (count === TITLE_GRAPHEMES) break;
    title += segment;
    count += 1;
  }
  return title;
}
const EXCERPT_CHARS = 240;

function toSource(passage: Passage, index: number): SourceRef {
  return {
    index: index + 1,
    documentId: passage.documentId,
    title: passage.title,
    section: passage.heading,
    source: passage.source,
    chunkId: passage.chunkId,
    score: Number(passage.score.toPrecision(6)),
    excerpt: passage.text.length > EXCERPT_CHARS ? `${passage.text.slice(0, EXCERPT_CHARS)}…` : passage.text,
  };
}

/** Keeps the newest messages that fit the token budget, dropping the oldest first. */
export function trimHistory(history: readonly ChatMessage[], budget: number): ChatMessage[] {
  const kept: ChatMessage[] = [];
  let used = 0;
  for (let index = history.length - 1; index >= 0; index -= 1) {
    const message = history[index];
    if (message === undefined) continue;
    used += estimateTokens(message.content);
    if (used > budget) break;
    kept.unshift(message);
  }
  return kept;
}

function passageContext(passages: readonly Passage[]): string {
  if (passages.length === 0) return "No knowledge-base passage matched this message.";
  const numbered = passages.map((passage, index) => {
    const section = passage.heading === "" || passage.heading === passage.title ? "" : ` — ${passage.heading}`;
    return `[${index + 1}] ${passage.title}${section}\n${passage.text}`;
  });
  return `Knowledge-base passages (cite them as [n]; if they do not answer the question, say only that the knowledge base does not contain the answer, and cite nothing):\n\n${numbered.join("\n\n")}`;
}

/**
 * The prompt around the user's message: the system prompt with the reply language, and the numbered
 * passages in the user's turn (before the question) or in the system message, as `placement` says.
 */
export function promptMessages(
  systemPrompt: string,
  passages: readonly Passage[],
  language: Language,
  placement: "user" | "system",
  history: readonly ChatMessage[],
  message: string,
): ChatMessage[] {
  const reply = language === "zh" ? "The user writes in Chinese: reply in Chinese." : "The user writes in English: reply in English.";
  const context = passageContext(passages);
  return [
    { role: "system", content: placement === "system" ? `${systemPrompt}\n\n${reply}\n\n${context}` : `${systemPrompt}\n\n${reply}` },
    ...history,
    { role: "user", content: placement === "user" ? `${context}\n\nQuestion: ${message}` : message },
  ];
}

/** Whether a reply cites one of the passages it was given. */
function citesPassage(reply: string, passageCount: number): boolean {
  for (const [, number] of reply.matchAll(/\[(\d{1,3})\]/g)) {
    const n = Number(number);
    if (n >= 1 && n <= passageCount) return true;
  }
  return false;
}

export class DialogManager {
  constructor(private readonly deps: DialogDeps) {}

  get model(): string {
    return this.deps.provider.model;
  }

  /**
   * Answers `message` given earlier `history` (already in the model's view), without storing
   * anything: the stateless core shared by /api/v1/chat and the OpenAI-compatible endpoint.
   * `tenant` is the caller's: retrieval decides which knowledge that tenant may read.
   */
  answer(tenant: string, history: readonly ChatMessage[], message: string, signal: AbortSignal, sink: AnswerSink = {}, caller?: SkillCaller): Promise<Answer> {
    return this.answerQuestion(tenant, history, { text: message }, signal, sink, caller);
  }

  /** `question.masked`, when the caller has it already, spares masking the question a second time. */
  private async answerQuestion(
    tenant: string,
    history: readonly ChatMessage[],
    question: { text: string; masked?: string },
    signal: AbortSignal,
    sink: AnswerSink,
    caller: SkillCaller | undefined,
  ): Promise<Answer> {
    const { provider, metrics, retriever, options, masker, skills } = this.deps;
    const message = question.text;
    const language = detectLanguage(message);
    const skillTurn: SkillTurn | undefined =
      skills === undefined || caller === undefined
        ? undefined
        : { skills, caller, language, signal, forModel: outboundText(masker, options.modelSeesOriginal) };
    const command = skillTurn === undefined ? undefined : parseCommand(message, (name) => skillTurn.skills.has(name));
    if (skillTurn !== undefined && command !== undefined) {
      sink.sources?.([]);
      const reply = await runCommand(command, skillTurn);
      if (signal.aborted) throw new ChatAbortedError("the client went away");
      sink.delta?.(reply);
      return { reply, sources: [], usage: { promptTokens: 0, completionTokens: 0 }, grounded: false };
    }
    const intent = detectIntent(message);
    const terms = intent === "question" ? queryTerms(message) : [];
    const [retrieved, frequencies] =
      intent === "question" ? await Promise.all([retriever.search(tenant, message, options.topK), retriever.termFrequencies(tenant, terms)]) : [[], undefined];
    const weights = frequencies === undefined ? new Map<string, number>() : termWeights(terms, frequencies);
    const tools = skillTurn === undefined ? [] : toolsFor(skillTurn.skills);
    const weak = frequencies !== undefined && !assessEvidence(message, terms, frequencies, retrieved, options.abstention).sufficient;
    // Evidence too weak to answer from: no model is asked, so none can dress a guess up with a citation;
    // with skills on offer the model still is (the question may be one for a skill), shown no passage.
    if (weak && tools.length === 0) {
      const reply = declineReply(language);
      sink.sources?.([]);
      sink.delta?.(reply);
      metrics.declines.inc({ reason: "evidence" });
      return { reply, sources: [], usage: { promptTokens: 0, completionTokens: 0 }, grounded: false };
    }
    const passages = weak ? [] : retrieved;
    const documentCount = intent === "capabilities" ? await retriever.documentCount(tenant) : 0;
    const sources = passages.map(toSource);
    sink.sources?.(sources);
    const modelMessage = options.modelSeesOriginal ? message : (question.masked ?? masker(message));
    // Only the turns the model is shown are masked. History a client sends to the stateless endpoint
    // is not masked yet; stored history is, but under the rules of the day it was stored.
    const shownHistory = trimHistory(history, options.historyTokens);
    const modelHistory = options.modelSeesOriginal ? shownHistory : shownHistory.map((turn) => ({ ...turn, content: masker(turn.content) }));
    // Held only while a step that offers tools may extend it: the passages in it are the most a chat
    // holds while the model streams.
    let prompt: ChatMessage[] | undefined = promptMessages(
      options.systemPrompt,
      passages,
      language,
      options.passagePlacement,
      modelHistory,
      modelMessage,
    );
    const labels = { provider: provider.provider, model: provider.model };
    const stopTimer = metrics.modelDuration.startTimer(labels);
    let reply = "";
    const usage: Usage = { promptTokens: 0, completionTokens: 0 };
    let usedSkills = false;
    try {
      // Each step may end in tool calls, whose results the next step reads; the last offers no tools.
      for (let step = 0; ; step += 1) {
        const offered = skillTurn !== undefined && step < skillTurn.skills.options.maxSteps ? tools : [];
        const calls: ToolCall[] = [];
        let text = "";
        const events = provider.generate({
          messages: prompt,
          question: message,
          passages,
          language,
          termWeights: weights,
          intent,
          documentCount,
          tools: offered,
          stream: sink.delta !== undefined,
          signal,
        });
        const kept: ChatMessage[] | undefined = offered.length === 0 ? undefined : prompt;
        prompt = undefined;
        for await (const event of events) {
          if (event.type === "delta") {
            reply += event.text;
            text += event.text;
            sink.delta?.(event.text);
          } else if (event.type === "usage") {
            usage.promptTokens += event.promptTokens;
            usage.completionTokens += event.completionTokens;
          } else {
            calls.push(...event.calls);
          }
        }
        if (skillTurn === undefined || calls.length === 0 || kept === undefined || signal.aborted) break;
        usedSkills = true;
        const outcome = await runToolCalls(calls, skillTurn);
        if ("confirmation" in outcome) {
          reply += outcome.confirmation;
          sink.delta?.(outcome.confirmation);
          break;
        }
        kept.push({ role: "assistant", content: text, toolCalls: calls }, ...outcome.messages);
        prompt = kept;
      }
    } catch (error) {
      if (signal.aborted) {
        stopTimer({ outcome: "aborted" });
        throw new ChatAbortedError("the client went away");
      }
      stopTimer({ outcome: "error" });
      throw error;
    }
    if (signal.aborted) {
      stopTimer({ outcome: "aborted" });
      throw new ChatAbortedError("the client went away");
    }
    if (reply.trim() === "") {
      stopTimer({ outcome: "error" });
      throw new ModelEmptyReplyError("the model answered with no text");
    }
    stopTimer({ outcome: "ok" });
    metrics.modelTokens.inc({ ...labels, kind: "prompt" }, usage.promptTokens);
    metrics.modelTokens.inc({ ...labels, kind: "completion" }, usage.completionTokens);
    const grounded = intent === "question" && !usedSkills && citesPassage(reply, passages.length);
    if (intent === "question" && !usedSkills && !grounded) metrics.declines.inc({ reason: "model" });
    return { reply, sources, usage, grounded };
  }

  /**
   * A caller's conversation as its next turn needs it: its newest turns (none for a new one). Throws
   * ConversationNotFoundError for a conversation that is not the owner's, so a route can answer 404
   * before it starts a stream. Turns found are the owner's conversation's, so it exists: only an empty
   * history needs the conversation looked up, sparing each turn a read (a round trip to Postgres).
   */
  async openConversation(owner: Owner, conversationId: string | undefined): Promise<OpenConversation> {
    if (conversationId === undefined) return { id: undefined, history: [] };
    const { conversations } = this.deps;
    const turns = await conversations.recentTurns(owner, conversationId, MAX_HISTORY_TURNS);
    if (turns.length === 0 && (await conversations.getConversation(owner, conversationId)) === undefined) {
      throw new ConversationNotFoundError(conversationId);
    }
    return { id: conversationId, history: turns.map((turn) => ({ role: turn.role, content: turn.content })) };
  }

  /** One turn of a stored conversation: masked user message and reply are committed before this resolves. */
  async chat(owner: Owner, message: string, conversation: OpenConversation, signal: AbortSignal, sink: ChatSink = {}, caller?: SkillCaller): Promise<ChatResult> {
    const { conversations, masker } = this.deps;
    // Time-ordered ids put a new conversation's rows, and its turns', next to the last ones in the
    // SQLite indexes instead of on random pages: each commit then writes far fewer pages.
    const id = conversation.id ?? timeOrderedUuid();
    const maskedMessage = masker(message);
    const answer = await this.answerQuestion(
      owner.tenant,
      conversation.history,
      { text: message, masked: maskedMessage },
      signal,
      {
        sources: (sources) => sink.start?.({ conversationId: id, sources }),
        ...(sink.delta === undefined ? {} : { delta: (text: string) => sink.delta?.(text) }),
      },
      caller,
    );
    await conversations.appendTurns(
      owner,
      id,
      [
        { role: "user", content: maskedMessage, sources: [], promptTokens: null, completionTokens: null },
        {
          role: "assistant",
          content: masker(answer.reply),
          sources: answer.sources,
          promptTokens: answer.usage.promptTokens,
          completionTokens: answer.usage.completionTokens,
        },
      ],
      conversation.id === undefined ? titleFrom(maskedMessage) : undefined,
    );
    return { conversationId: id, ...answer };
  }
}
