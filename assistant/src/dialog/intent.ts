import type { Intent } from "../llm/types.js";
import { contentWords } from "../retrieval/text.js";

/**
 * Greetings and "what can you do" questions get an honest description of the assistant instead of a
 * knowledge-base search. A greeting that carries a real question ("你好，年假有几天？") stays a
 * question: only when nothing but greeting/help phrases and function words remain is it one.
 */
const GREETING_OR_HELP = new RegExp(
  [
    "\\b(?:hi|hello|hey|howdy|greetings|good (?:morning|afternoon|evening))\\b",
    "\\bwhat (?:can|could|do) you (?:do|help(?: me)?(?: with)?|offer)\\b",
    "\\bhow (?:can|could) you help(?: me)?\\b",
    "\\b(?:who|what) are you\\b",
    "\\bhelp\\b",
    "你好|您好|嗨|哈喽|早上好|下午好|晚上好|在吗|帮助|你是谁|有什么功能|怎么用",
    "(?:能|可以|会)(?:帮|为)?(?:我|你)?(?:做|干)?(?:些)?什么",
  ].join("|"),
  "giu",
);

export function detectIntent(message: string): Intent {
  const remainder = message.replace(GREETING_OR_HELP, " ");
  return remainder !== message && contentWords(remainder).length === 0 ? "capabilities" : "question";
}
