/** The page's text in English and Chinese, chosen from the browser's preferred languages. */
const en = {
  title: "Assistant",
  skip: "Skip to the message box",
  conversations: "Conversations",
  newChat: "New chat",
  noConversations: "No conversations yet.",
  credentialLabel: "API key or token",
  credentialHint: "Kept in this tab only; sent as Authorization: Bearer.",
  signIn: "Sign in",
  signOut: "Sign out",
  signedIn: "Signed in for this tab.",
  signInNeeded: "This assistant needs an API key or token: enter it above.",
  messageLabel: "Message",
  messagePlaceholder: "Ask a question… (Enter sends, Shift+Enter adds a line)",
  send: "Send",
  transcript: "Conversation",
  you: "You",
  assistant: "Assistant",
  sources: "Sources",
  thinking: "Answering…",
  loading: "Loading…",
  failed: "Request failed",
  welcome: "Ask a question about the knowledge base, or start with a greeting.",
} as const;

export type TextKey = keyof typeof en;

const zh: Record<TextKey, string> = {
  title: "智能助手",
  skip: "跳到输入框",
  conversations: "会话",
  newChat: "新会话",
  noConversations: "还没有会话。",
  credentialLabel: "API 密钥或令牌",
  credentialHint: "只保存在当前标签页，以 Authorization: Bearer 发送。",
  signIn: "登录",
  signOut: "退出",
  signedIn: "当前标签页已登录。",
  signInNeeded: "此助手需要 API 密钥或令牌：请在上方输入。",
  messageLabel: "消息",
  messagePlaceholder: "输入问题…（Enter 发送，Shift+Enter 换行）",
  send: "发送",
  transcript: "对话内容",
  you: "你",
  assistant: "助手",
  sources: "来源",
  thinking: "正在回答…",
  loading: "加载中…",
  failed: "请求失败",
  welcome: "可以就知识库提问，也可以先打个招呼。",
};

export type Language = "en" | "zh";

export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split("-")[0];
    if (primary === "zh") return "zh";
    if (primary === "en") return "en";
  }
  return "en";
}

export function translator(language: Language): (key: TextKey) => string {
  const table: Record<TextKey, string> = language === "zh" ? zh : en;
  return (key) => table[key];
}

/**
 * Fills every element marked `data-text` (its text), `data-placeholder` and `data-label`
 * (aria-label) from the table, so the HTML keeps no language of its own.
 */
export function translatePage(root: Document, text: (key: TextKey) => string, language: Language): void {
  root.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  root.title = text("title");
  const fill = (attribute: string, apply: (element: HTMLElement, value: string) => void): void => {
    for (const element of root.querySelectorAll<HTMLElement>(`[${attribute}]`)) {
      const key = element.getAttribute(attribute);
      if (key !== null && key in en) apply(element, text(key as TextKey));
    }
  };
  fill("data-text", (element, value) => {
    element.textContent = value;
  });
  fill("data-placeholder", (element, value) => {
    element.setAttribute("placeholder", value);
  });
  fill("data-label", (element, value) => {
    element.setAttribute("aria-label", value);
  });
}
