import assert from "node:assert/strict";
import { startService, type RunningService } from "../support/service.js";

/** A seeded generator (mulberry32) so a failing body can be reproduced from the seed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "\ud800",
  "'; DROP TABLE turns; --",
  '" OR 1=1 NEAR(a b) * ^',
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "%00%ff",
  "{{7*7}}",
  "𝕳𝖊𝖑𝖑𝖔 👩‍👩‍👧‍👦",
  "你好".repeat(3000),
  "a".repeat(70000),
  "13812345678 11010519491231002X 4111111111111111",
  "(a+)+$".repeat(50),
];

const SEED = 20261128;

/** URL-encodes anything, including lone surrogates, and sometimes sends a broken percent-escape on purpose. */
const encode = (input: unknown, broken: boolean): string =>
  broken ? `${String(input).slice(0, 10)}%E0%A4%A` : encodeURIComponent(String(input).replace(/\p{Surrogate}/gu, "\ufffd"));

describe("fuzzing every route with random and hostile input", function () {
  this.timeout(120000);
  let service: RunningService;
  before(async () => {
    service = await startService({
      knowledge: { "kb.md": "# KB\n\nThe office opens at nine. 年假需要提前申请。\n" },
      config: { limits: { maxMessageChars: 2000, bodyLimitBytes: 65536 } },
    });
  });
  after(async () => {
    await service.stop();
  });

  it("answers hundreds of hostile requests without a 5xx and stays alive", async () => {
    const next = random(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const value = (depth: number): unknown => {
      const kind = Math.floor(next() * (depth > 3 ? 6 : 8));
      switch (kind) {
        case 0:
          return null;
        case 1:
          return next() < 0.5;
        case 2:
          return pick([0, -1, 1e308, -1e-308, 2 ** 53 + 1, 3.14]);
        case 3:
        case 4:
          return pick(HOSTILE_STRINGS);
        case 5:
          return Array.from({ length: Math.floor(next() * 20) }, () => String.fromCharCode(Math.floor(next() * 0xffff))).join("");
        case 6:
          return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(
            Array.from({ length: Math.floor(next() * 4) }, () => [pick(["message", "conversationId", "stream", "model", "messages", "role", "content", "__proto__", "constructor", "x"]), value(depth + 1)]),
          );
      }
    };
    const chatLike = (): unknown =>
      pick([
        () => value(0),
        () => ({ message: value(1), conversationId: value(1), stream: value(1) }),
        () => ({ message: pick(HOSTILE_STRINGS) }),
        () => ({ message: "年假", conversationId: pick(HOSTILE_STRINGS) }),
        () => ({ model: value(1), messages: value(1) }),
        () => ({ model: "m", messages: [{ role: pick(["user", "system", "tool", "x", 1]), content: value(2) }], stream: value(1) }),
        () => ({ model: "m", messages: [{ role: "user", content: [{ type: "text", text: pick(HOSTILE_STRINGS) }, { type: "image_url" }] }] }),
      ])();
    const rawBodies = [
      '{"message": "unterminated',
      '{"message": "a", "message": 5}',
      '{"__proto__": {"polluted": true}, "message": "x"}',
      '{"constructor": {"prototype": {"polluted": true}}, "message": "x"}',
      `${"[".repeat(20000)}${"]".repeat(20000)}`,
      `{"message": ${"{\"a\":".repeat(5000)}1${"}".repeat(5000)}}`,
      "\u0000\u0001\u0002",
      "null",
      "",
      "1e99999",
      '"just a string"',
      JSON.stringify({ message: "x".repeat(100000) }),
    ];
    const contentTypes = ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream"];
    const routes: { method: string; path: () => string; body: boolean }[] = [
      { method: "POST", path: () => "/api/v1/chat", body: true },
      { method: "POST", path: () => "/v1/chat/completions", body: true },
      { method: "GET", path: () => "/v1/models", body: false },
      { method: "GET", path: () => `/api/v1/conversations?limit=${encode(value(2), next() < 0.1)}&cursor=${encode(value(2), next() < 0.1)}`, body: false },
      { method: "GET", path: () => `/api/v1/conversations/${encode(value(2), next() < 0.1)}`, body: false },
      { method: "DELETE", path: () => `/api/v1/conversations/${encode(value(2), next() < 0.1)}`, body: false },
      { method: "GET", path: () => "/healthz", body: false },
      { method: "GET", path: () => "/readyz", body: false },
      { method: "GET", path: () => "/metrics", body: false },
      { method: "GET", path: () => "/openapi.json", body: false },
    ];

    const failures: string[] = [];
    const statuses = new Set<number>();
    let sent = 0;
    for (let round = 0; round < 40; round += 1) {
      for (const route of routes) {
        const method = next() < 0.85 ? route.method : pick(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
        const path = route.path();
        const withBody = method !== "GET" && method !== "DELETE" && (route.body || next() < 0.3);
        let body: string | undefined;
        if (withBody) body = next() < 0.25 ? pick(rawBodies) : JSON.stringify(chatLike());
        const headers: Record<string, string> = {};
        if (withBody) headers["content-type"] = next() < 0.8 ? "application/json" : pick(contentTypes);
        if (next() < 0.2) headers["accept"] = "text/event-stream";
        const response = await fetch(`${service.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
        const text = await response.text();
        sent += 1;
        statuses.add(response.status);
        if (response.status >= 500) failures.push(`${method} ${path.slice(0, 80)} ${String(body).slice(0, 80)} -> ${response.status} ${text.slice(0, 200)}`);
        if (response.status >= 400 && method !== "HEAD") {
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          if (typeof parsed.error?.code !== "string" || typeof parsed.error.message !== "string") failures.push(`${method} ${path.slice(0, 80)} -> ${response.status} without the error shape: ${text.slice(0, 200)}`);
        }
      }
    }
    assert.ok(sent >= 400);
    // The mix must reach the handlers, not only the validators.
    for (const status of [200, 400, 404, 413, 415]) assert.ok(statuses.has(status), `no ${status} among ${[...statuses].join(",")}`);
    assert.deepEqual(failures, []);
    assert.equal(service.child.exitCode, null);
    assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });
});
