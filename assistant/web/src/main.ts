import { ApiFailure, AssistantApi, type Source } from "./api.js";
import { pickLanguage, translatePage, translator } from "./i18n.js";

/** The chat page: conversation list, transcript with sources, streamed answers, sign-in. */
const CREDENTIAL_KEY = "assistant.credential";

const language = pickLanguage(navigator.languages);
const text = translator(language);
translatePage(document, text, language);

function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof kind)) throw new Error(`the page lacks #${id}`);
  return found;
}

const ui = {
  credentialForm: byId("credential-form", HTMLFormElement),
  credential: byId("credential", HTMLInputElement),
  signOut: byId("sign-out", HTMLButtonElement),
  newChat: byId("new-chat", HTMLButtonElement),
  list: byId("conversation-list", HTMLUListElement),
  transcript: byId("transcript", HTMLElement),
  status: byId("status", HTMLParagraphElement),
  composer: byId("composer", HTMLFormElement),
  message: byId("message", HTMLTextAreaElement),
  send: byId("send", HTMLButtonElement),
};

const credential = (): string | null => sessionStorage.getItem(CREDENTIAL_KEY);
const api = new AssistantApi(credential);
let conversationId: string | null = null;

function say(message: string, kind: "info" | "error" = "info"): void {
  ui.status.textContent = message;
  ui.status.dataset["kind"] = kind;
}

function problem(error: unknown): void {
  if (error instanceof ApiFailure && error.status === 401) say(text("signInNeeded"), "error");
  else say(`${text("failed")}: ${error instanceof Error ? error.message : String(error)}`, "error");
}

function sourceList(sources: readonly Source[]): HTMLElement {
  const list = document.createElement("ol");
  list.className = "sources";
  for (const source of sources) {
    const item = document.createElement("li");
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    const section = source.section === "" || source.section === source.title ? "" : ` — ${source.section}`;
    summary.textContent = `[${source.index}] ${source.title}${section} (${source.source})`;
    const excerpt = document.createElement("p");
    excerpt.textContent = source.excerpt;
    details.append(summary, excerpt);
    item.append(details);
    list.append(item);
  }
  return list;
}

/** Appends one message to the transcript; the returned handles fill in a streamed answer. */
function addMessage(role: "user" | "assistant", content: string, sources: readonly Source[]) {
  const article = document.createElement("article");
  article.className = `message message-${role}`;
  const who = document.createElement("h3");
  who.textContent = text(role === "user" ? "you" : "assistant");
  const body = document.createElement("p");
  body.className = "body";
  body.textContent = content;
  const footer = document.createElement("footer");
  article.append(who, body, footer);
  ui.transcript.append(article);
  const setSources = (next: readonly Source[]): void => {
    footer.replaceChildren();
    if (next.length === 0) return;
    const heading = document.createElement("h4");
    heading.textContent = text("sources");
    footer.append(heading, sourceList(next));
  };
  setSources(sources);
  article.scrollIntoView({ block: "end" });
  return { article, body, setSources };
}

function showWelcome(): void {
  ui.transcript.replaceChildren();
  const welcome = document.createElement("p");
  welcome.className = "welcome";
  welcome.textContent = text("welcome");
  ui.transcript.append(welcome);
}

async function refreshList(): Promise<void> {
  const items = await api.conversations();
  const rows = items.map((item) => {
    const row = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset["id"] = item.id;
    button.className = "conversation";
    if (item.id === conversationId) button.setAttribute("aria-current", "true");
    const title = document.createElement("span");
    title.textContent = item.title;
    const when = document.createElement("time");
    when.dateTime = item.updatedAt;
    when.textContent = new Date(item.updatedAt).toLocaleString(language === "zh" ? "zh-CN" : "en");
    button.append(title, when);
    row.append(button);
    return row;
  });
  if (rows.length === 0) {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = text("noConversations");
    rows.push(empty);
  }
  ui.list.replaceChildren(...rows);
}

async function openConversation(id: string): Promise<void> {
  say(text("loading"));
  const turns = await api.conversation(id);
  conversationId = id;
  ui.transcript.replaceChildren();
  for (const turn of turns) addMessage(turn.role, turn.content, turn.sources);
  for (const button of ui.list.querySelectorAll<HTMLButtonElement>("button[data-id]")) {
    if (button.dataset["id"] === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
  say("");
}

async function send(message: string): Promise<void> {
  if (ui.transcript.querySelector(".message") === null) ui.transcript.replaceChildren();
  addMessage("user", message, []);
  const answer = addMessage("assistant", "", []);
  answer.article.setAttribute("aria-busy", "true");
  ui.send.disabled = true;
  say(text("thinking"));
  try {
    await api.chat(message, conversationId, {
      start(id, sources) {
        conversationId = id;
        answer.setSources(sources);
      },
      delta(piece) {
        answer.body.append(piece);
        answer.article.scrollIntoView({ block: "end" });
      },
      done(reply, sources) {
        answer.body.textContent = reply;
        answer.setSources(sources);
      },
    });
    say("");
    await refreshList();
  } catch (error) {
    answer.article.remove();
    problem(error);
  } finally {
    answer.article.removeAttribute("aria-busy");
    ui.send.disabled = false;
  }
}

function showSignedIn(): void {
  ui.signOut.hidden = credential() === null;
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const message = ui.message.value.trim();
  if (message === "" || ui.send.disabled) return;
  ui.message.value = "";
  void send(message);
});

ui.message.addEventListener("keydown", (event) => {
  // Enter also ends an input method's composition (Chinese, Japanese): that Enter must not send.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.credentialForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = ui.credential.value.trim();
  if (value === "") return;
  sessionStorage.setItem(CREDENTIAL_KEY, value);
  ui.credential.value = "";
  showSignedIn();
  say(text("signedIn"));
  refreshList().catch(problem);
});

ui.signOut.addEventListener("click", () => {
  sessionStorage.removeItem(CREDENTIAL_KEY);
  conversationId = null;
  showSignedIn();
  ui.list.replaceChildren();
  showWelcome();
  ui.credential.focus();
});

ui.newChat.addEventListener("click", () => {
  conversationId = null;
  for (const button of ui.list.querySelectorAll("[aria-current]")) button.removeAttribute("aria-current");
  showWelcome();
  ui.message.focus();
});

ui.list.addEventListener("click", (event) => {
  const button = (event.target as Element).closest<HTMLButtonElement>("button[data-id]");
  const id = button?.dataset["id"];
  if (id !== undefined) openConversation(id).catch(problem);
});

showSignedIn();
showWelcome();
refreshList().catch(problem);
