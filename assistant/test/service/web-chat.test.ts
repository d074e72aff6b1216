import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { heldReply, startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { KNOWLEDGE } from "../support/knowledge.js";
import { startService, type RunningService } from "../support/service.js";

/** Screenshots land here (git-ignored) for people and CI to look at. */
const ARTIFACTS = fileURLToPath(new URL("../../../test-artifacts/", import.meta.url));
const API_KEY = "web-chat-key-Zx81Lm4Qp0Rt";

/** Debian's chromium, never a downloaded browser: a missing one fails the test. */
const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });

/**
 * Console errors and uncaught exceptions (a CSP violation is one) fail the test that saw them; the
 * 401 of the page's first call before sign-in is how it learns that it needs a credential.
 */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().includes("status of 401")) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return problems;
}

describe("the web chat page in a real browser (Debian chromium)", function () {
  this.timeout(120000);
  let fake: FakeOpenAI;
  let service: RunningService;
  let browser: Browser;
  before(async () => {
    fake = await startFakeOpenAI();
    service = await startService({
      knowledge: KNOWLEDGE,
      config: {
        model: { provider: "openai", baseURL: fake.baseURL, name: "fake-model", maxRetries: 0 },
        auth: { mode: "apiKey", apiKeys: [{ name: "web", key: API_KEY, tenant: "acme", user: "alice" }] },
      },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await service.stop();
    await fake.close();
  });

  it("serves the page and its scripts publicly under the content security policy, revalidated by ETag", async () => {
    const page = await fetch(`${service.url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self';.*style-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/assets\/main\.js"><\/script>/);
    const script = await fetch(`${service.url}/assets/main.js`);
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    const etag = script.headers.get("etag") ?? "";
    assert.equal((await fetch(`${service.url}/assets/main.js`, { headers: { "if-none-match": etag } })).status, 304);
    const missing = await fetch(`${service.url}/assets/main.ts`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "not_found");
    assert.equal((await fetch(`${service.url}/api/v1/conversations`)).status, 401);
  });

  it("signs in, streams a reply with its sources, and reopens an older conversation (Chinese UI)", async () => {
    const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 1100, height: 720 } });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(service.url);
    assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
    await page.getByText("此助手需要 API 密钥或令牌：请在上方输入。").waitFor();

    const credential = page.getByLabel("API 密钥或令牌");
    await credential.fill(API_KEY);
    await credential.press("Enter");
    await page.getByText("当前标签页已登录。").waitFor();
    await page.getByText("还没有会话。").waitFor();

    // The model is held after its first words: only a streaming page can show them now.
    const held = heldReply("员工入职满一年后", "享有5天带薪年假 [1]。");
    fake.queue.push(held.behaviour);
    const message = page.getByLabel("消息");
    await message.fill("年假有几天？");
    await message.press("Enter");
    const answer = page.locator(".message-assistant").last();
    await answer.locator(".body", { hasText: "员工入职满一年后" }).waitFor();
    assert.equal(await answer.getAttribute("aria-busy"), "true");
    await answer.locator(".sources summary", { hasText: "[1] 年假制度 (hr/leave.md)" }).waitFor();
    held.release();
    await answer.locator(".body", { hasText: "员工入职满一年后享有5天带薪年假 [1]。" }).waitFor();
    await page.locator(".message-assistant[aria-busy]").waitFor({ state: "detached" });
    await page.locator("#conversation-list button", { hasText: "年假有几天？" }).waitFor();

    await page.getByRole("button", { name: "新会话" }).click();
    await message.fill("How do I connect to the VPN?");
    await page.getByRole("button", { name: "发送" }).click();
    await page.locator(".message-assistant .body", { hasText: "Hello from the fake model." }).waitFor();
    await page.locator("#conversation-list button", { hasText: "How do I connect to the VPN?" }).waitFor();

    await page.locator("#conversation-list button", { hasText: "年假有几天？" }).click();
    await page.locator(".message-user .body", { hasText: "年假有几天？" }).waitFor();
    const reopened = page.locator(".message-assistant");
    assert.equal(await reopened.count(), 1);
    assert.equal(await reopened.locator(".body").textContent(), "员工入职满一年后享有5天带薪年假 [1]。");
    assert.equal(await reopened.locator(".sources summary").first().textContent(), "[1] 年假制度 (hr/leave.md)");
    assert.equal(await page.locator("#conversation-list button[aria-current=true]").textContent().then((text) => text?.startsWith("年假有几天？")), true);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}web-chat.png`, fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("speaks English to an English browser, with every control labelled", async () => {
    const context = await browser.newContext({ locale: "en-US" });
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(service.url);
    assert.equal(await page.getAttribute("html", "lang"), "en");
    for (const label of ["API key or token", "Message"]) await page.getByLabel(label).waitFor();
    for (const name of ["New chat", "Sign in", "Send"]) await page.getByRole("button", { name }).waitFor();
    await page.getByRole("navigation", { name: "Conversations" }).waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });
});
