import { sentences } from "../retrieval/chunk.js";
import { estimateTokens, mentionCounter, queryTerms, type Language } from "../retrieval/text.js";
import type { ModelEvent, ModelProvider, ModelRequest } from "./types.js";

/**
 * The built-in model: no network, no key. It never writes anything of its own about the topic; it
 * quotes the sentences of the retrieved passages that share the most words with the question and
 * cites them, and says plainly when the knowledge base has nothing relevant.
 */
const MAX_PASSAGES = 3;
const SENTENCES_PER_PASSAGE = 2;

function capabilities(language: Language, documentCount: number): string {
  if (language === "zh") {
    const loaded = documentCount > 0 ? `当前已加载 ${documentCount} 篇文档` : "目前知识库中还没有文档";
    return [
      "你好！我是企业知识库助手，我可以：",
      `1. 根据知识库回答问题（${loaded}），并用 [1]、[2] 这样的编号标注出处；`,
      "2. 在同一个会话中记住上下文，你可以接着追问；",
      "3. 用中文或英文回答。",
      "我只依据知识库的内容作答；找不到答案时会如实告诉你，不会编造。请直接提出你的问题。",
    ].join("\n");
  }
  const loaded = documentCount > 0 ? `${documentCount} documents are loaded` : "no documents are loaded yet";
  return [
    "Hello! I am the enterprise knowledge-base assistant. I can:",
    `1. Answer questions from the knowledge base (${loaded}), citing sources as [1], [2];`,
    "2. Remember the context within a conversation, so you can ask follow-up questions;",
    "3. Reply in English or Chinese.",
    "I answer only from the knowledge base; when it does not contain the answer I say so instead of guessing. What would you like to know?",
  ].join("\n");
}

function notFound(language: Language): string {
  return language === "zh"
    ? "抱歉，我在知识库中没有找到与这个问题相关的内容。你可以换个说法再问，或请管理员把相关文档加入知识库。"
    : "I could not find this in the knowledge base. Try rephrasing the question, or ask an administrator to add the relevant documents.";
}

/** The passage's sentences that mention the most query terms, in their original order. */
function bestSentences(text: string, mentions: (sentence: string) => number): string[] {
  const scored = sentences(text).map((sentence, position) => ({ sentence, position, hits: mentions(sentence) }));
  return scored
    .filter((entry) => entry.hits > 0)
    .sort((a, b) => b.hits - a.hits || a.position - b.position)
    .slice(0, SENTENCES_PER_PASSAGE)
    .sort((a, b) => a.position - b.position)
    .map((entry) => entry.sentence);
}

export function extractiveAnswer(request: Pick<ModelRequest, "question" | "passages" | "language" | "intent" | "documentCount">): string {
  if (request.intent === "capabilities") return capabilities(request.language, request.documentCount);
  const mentions = mentionCounter(queryTerms(request.question));
  const quoted: string[] = [];
  request.passages.forEach((passage, index) => {
    if (quoted.length >= MAX_PASSAGES) return;
    const picked = bestSentences(passage.text, mentions);
    if (picked.length > 0) quoted.push(`${picked.join(request.language === "zh" ? "" : " ")} [${index + 1}]`);
  });
  if (quoted.length === 0) return notFound(request.language);
  const lead = request.language === "zh" ? "根据知识库：" : "According to the knowledge base:";
  return `${lead}\n\n${quoted.join("\n\n")}`;
}

export function extractiveProvider(): ModelProvider {
  return {
    provider: "extractive",
    model: "extractive",
    *generate(request): Generator<ModelEvent> {
      const answer = extractiveAnswer(request);
      // Paragraph-sized deltas give streaming clients the same shape of output a real model produces.
      const parts = answer.split(/(?<=\n\n)/);
      for (const text of parts) {
        if (request.signal.aborted) return;
        yield { type: "delta", text };
      }
      yield {
        type: "usage",
        promptTokens: estimateTokens(request.messages.map((message) => message.content).join("\n")),
        completionTokens: estimateTokens(answer),
      };
    },
    ready() {
      return Promise.resolve(true);
    },
  };
}
