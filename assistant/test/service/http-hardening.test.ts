import assert from "node:assert/strict";
import { apiClient, rawExchange, type ErrorBody } from "../support/client.js";
import { finishStream, startFakeOpenAI, startStream, streamReply, writeDelta } from "../support/fake-openai.js";
import { sseEvents, startService, waitForLog, type RunningService } from "../support/service.js";

const CALLERS = {
  alice: { key: "acme-alice-Rt5Yu8Io2Pa6Sd9F", tenant: "acme", user: "alice" },
  bob: { key: "acme-bob-Gh3Jk7Lz1Xc4Vb8N", tenant: "acme", user: "bob" },
  dave: { key: "globex-dave-Mq2We5Rt8Ty1Ui4O", tenant: "globex", user: "dave" },
};
const apiKeys = Object.entries(CALLERS).map(([name, { key, tenant, user }]) => ({ name, key, tenant, user }));


describe("rate limits per user and per tenant", function () {
  this.timeout(60000);
  let service: RunningService;
  before(async () => {
    service = await startService({
      config: { auth: { mode: "apiKey", apiKeys }, rateLimit: { perUser: { max: 3, windowSeconds: 3600 }, perTenant: { max: 5, windowSeconds: 3600 } } },
    });
  });
  after(async () => {
    await service.stop();
  });

  const list = (name: keyof typeof CALLERS) => apiClient(service.url, CALLERS[name].key)<ErrorBody>("GET", "/api/v1/conversations");

  it("answers 429 with Retry-After to the user over the limit, while others go on until their tenant's limit", async () => {
    for (let request = 0; request < 3; request += 1) assert.equal((await list("alice")).status, 200);
    const limited = await list("alice");
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, "rate_limited");
    assert.match(limited.body.error.message, /this user/);
    const retryAfter = Number(limited.headers.get("retry-after"));
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 3600, `retry-after ${String(retryAfter)}`);

    // The tenant has used 3 of 5: bob gets two more, then the tenant's limit answers.
    assert.equal((await list("bob")).status, 200);
    assert.equal((await list("bob")).status, 200);
    const tenantLimited = await list("bob");
    assert.equal(tenantLimited.status, 429);
    assert.match(tenantLimited.body.error.message, /this tenant/);
    assert.ok(Number(tenantLimited.headers.get("retry-after")) > 0);

    assert.equal((await list("dave")).status, 200, "another tenant was limited too");
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(metrics, /assistant_rate_limited_total\{scope="user"\} 1\n/);
    assert.match(metrics, /assistant_rate_limited_total\{scope="tenant"\} 1\n/);
  });

  it("never limits the probes", async () => {
    for (let request = 0; request < 10; request += 1) assert.equal((await fetch(`${service.url}/healthz`)).status, 200);
  });
});

describe("security headers, CORS, audit lines and timeouts", function () {
  this.timeout(60000);
  const allowedOrigin = "https://chat.example.com";
  let service: RunningService;
  let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
  before(async () => {
    fake = await startFakeOpenAI();
    service = await startService({
      config: {
        model: { provider: "openai", baseURL: fake.baseURL, name: "fake-model" },
        auth: { mode: "apiKey", apiKeys },
        cors: { origins: [allowedOrigin] },
        server: { requestTimeoutMs: 500 },
      },
    });
  });
  after(async () => {
    await service.stop();
    await fake.close();
  });

  const alice = () => apiClient(service.url, CALLERS.alice.key);

  it("sends helmet's headers with a same-origin CSP on JSON, errors, probes and streams", async () => {
    const json = await alice()("GET", "/api/v1/conversations");
    const refused = await fetch(`${service.url}/api/v1/conversations`);
    const probe = await fetch(`${service.url}/healthz`);
    const stream = await fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${CALLERS.alice.key}` },
      body: JSON.stringify({ message: "hi", stream: true }),
    });
    for await (const event of sseEvents(stream)) if (event.event === "done") break;
    for (const [name, headers] of [["json", json.headers], ["401", refused.headers], ["probe", probe.headers], ["stream", stream.headers]] as const) {
      const csp = headers.get("content-security-policy") ?? "";
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
        assert.ok(csp.includes(directive), `${name}: CSP lacks ${directive}: ${csp}`);
      }
      assert.ok(!csp.includes("unsafe-inline"), name);
      assert.equal(headers.get("x-content-type-options"), "nosniff", name);
      assert.equal(headers.get("x-frame-options"), "DENY", name);
      assert.equal(headers.get("referrer-policy"), "no-referrer", name);
      assert.match(headers.get("strict-transport-security") ?? "", /max-age=\d+/, name);
      assert.match(headers.get("x-request-id") ?? "", /\S/, name);
    }
  });

  it("allows exactly the configured origins, preflight included, and no other", async () => {
    const allowed = await alice()("GET", "/api/v1/conversations", undefined, { origin: allowedOrigin });
    assert.equal(allowed.headers.get("access-control-allow-origin"), allowedOrigin);
    assert.match(allowed.headers.get("access-control-expose-headers") ?? "", /x-request-id/);
    const preflight = await fetch(`${service.url}/api/v1/chat`, {
      method: "OPTIONS",
      headers: { origin: allowedOrigin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), allowedOrigin);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.equal(preflight.headers.get("access-control-allow-credentials"), null);

    for (const origin of ["https://evil.example.com", "https://chat.example.com.evil.com", "http://chat.example.com", "null"]) {
      const denied = await alice()("GET", "/api/v1/conversations", undefined, { origin });
      assert.equal(denied.headers.get("access-control-allow-origin"), null, origin);
      const deniedPreflight = await fetch(`${service.url}/api/v1/chat`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
      assert.equal(deniedPreflight.headers.get("access-control-allow-origin"), null, origin);
    }
  });

  it("writes one audit line per write, with who, route, status and request id, and never the content", async () => {
    const secret = "my salary is 98765 and my password is hunter2-zebra";
    fake.queue.push(streamReply(["the model's private answer about hunter2-zebra"]));
    const chat = await alice()<{ conversationId: string }>("POST", "/api/v1/chat", { message: secret });
    assert.equal(chat.status, 200);
    const deleted = await alice()("DELETE", `/api/v1/conversations/${chat.body.conversationId}`);
    assert.equal(deleted.status, 204);
    const refused = await apiClient(service.url, "wrong-key-0000000000000")("DELETE", `/api/v1/conversations/${chat.body.conversationId}`);
    assert.equal(refused.status, 401);
    // The line is written when the response closes, which may be just after the client has it.
    for (const reply of [chat, deleted, refused]) {
      await waitForLog(service, (line) => line.includes(`"reqId":"${reply.headers.get("x-request-id") ?? ""}"`) && line.includes('"msg":"audit"'));
    }

    const audits = service.logs.flatMap((line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return entry["msg"] === "audit" ? [entry] : [];
    });
    const byRequest = (id: string | null) => audits.find((entry) => entry["reqId"] === id);
    assert.deepEqual(
      { ...byRequest(chat.headers.get("x-request-id")), time: 0, pid: 0, hostname: "" },
      {
        level: 30,
        time: 0,
        pid: 0,
        hostname: "",
        reqId: chat.headers.get("x-request-id"),
        audit: true,
        method: "POST",
        route: "/api/v1/chat",
        status: 200,
        actor: { tenant: "acme", user: "alice", authMethod: "apiKey", keyName: "alice" },
        msg: "audit",
      },
    );
    assert.equal(byRequest(deleted.headers.get("x-request-id"))?.["route"], "/api/v1/conversations/:id");
    assert.equal(byRequest(deleted.headers.get("x-request-id"))?.["status"], 204);
    assert.equal(byRequest(refused.headers.get("x-request-id"))?.["status"], 401);
    assert.equal(byRequest(refused.headers.get("x-request-id"))?.["actor"], null);
    const log = service.logs.join("\n");
    for (const forbidden of ["hunter2", "98765", CALLERS.alice.key, "wrong-key-0000000000000"]) assert.ok(!log.includes(forbidden), `the log holds ${forbidden}`);
  });

  it("answers 408 to a request whose body does not arrive in time, while a longer stream runs to its end", async () => {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.queue.push(async (response) => {
      startStream(response);
      writeDelta(response, "slow ");
      await released;
      writeDelta(response, "answer");
      finishStream(response);
    });
    const stream = await fetch(`${service.url}/api/v1/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${CALLERS.alice.key}` },
      body: JSON.stringify({ message: "a long answer please", stream: true }),
    });
    const events = sseEvents(stream);

    const { port } = new URL(service.url);
    const slow = await rawExchange(
      service.url,
      `POST /api/v1/chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${CALLERS.alice.key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"message":`,
    );
    assert.match(slow, /^HTTP\/1\.1 408 /);
    assert.match(slow, /"code":"request_timeout"/);

    // The stream outlived the request timeout that just cut the slow request, and still finishes.
    release();
    const seen: string[] = [];
    for await (const event of events) seen.push(event.event);
    assert.equal(seen.at(-1), "done");
  });
});

describe("CORS by default", function () {
  this.timeout(30000);
  let service: RunningService;
  before(async () => {
    service = await startService();
  });
  after(async () => {
    await service.stop();
  });

  it("allows no cross-origin caller", async () => {
    const reply = await fetch(`${service.url}/api/v1/conversations`, { headers: { origin: "https://chat.example.com" } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get("access-control-allow-origin"), null);
    const preflight = await fetch(`${service.url}/api/v1/chat`, { method: "OPTIONS", headers: { origin: "https://chat.example.com", "access-control-request-method": "POST" } });
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    assert.equal(preflight.status, 404);
  });
});
