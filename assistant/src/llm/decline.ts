import type { Language } from "../retrieval/text.js";

/** The honest reply when the knowledge base does not answer: no guess, no citation, in the user's language. */
export function declineReply(language: Language): string {
  return language === "zh"
    ? "抱歉，知识库中没有找到这个问题的答案。你可以换个说法再问，或请管理员把相关文档加入知识库。"
    : "I could not find the answer to this in the knowledge base. Try rephrasing the question, or ask an administrator to add the relevant documents.";
}
