import assert from "node:assert/strict";
import { rawExchange, type ErrorBody } from "../support/client.js";
import { livenessProbe, longestFailureRun, probeLiveness } from "../support/probes.js";
import { postJson, startService, waitForLog, type RunningService } from "../support/service.js";


/** The "request completed" line of the request answered under `id` (written once its response has closed). */
async function completedLine(service: RunningService, id: string): Promise<{ req: { url: string } }> {
  const line = await waitForLog(service, (entry) => entry.includes(`"reqId":"${id}"`) && entry.includes("request completed"));
  return JSON.parse(line) as { req: { url: string } };
}

describe("hostile clients against the service as it ships (default config)", function () {
  this.timeout(180000);
  let service: RunningService;
  before(async () => {
    service = await startService();
  });
  after(async () => {
    await service.stop();
  });

  it("keeps /healthz answering while 16 clients send 15 KB URLs of one letter", async () => {
    // Every URL differs, as an attacker's would, so none is answered from the log's cache of masked URLs.
    const long = (n: number): string => `${"a".repeat(15000)}${n}`;
    const urls = [(n: number) => `/${long(n)}`, (n: number) => `/api/v1/conversations?cursor=${long(n)}`, (n: number) => `/api/v1/conversations/${long(n)}`];
    let flooding = true;
    let sent = 0;
    const clients = Array.from({ length: 16 }, async (_, client) => {
      while (flooding) {
        const url = urls[(client + sent) % urls.length] ?? String;
        const response = await fetch(`${service.url}${url(client * 1e6 + sent)}`);
        await response.arrayBuffer();
        assert.ok(response.status < 500, `a flood request got ${response.status}`);
        sent += 1;
      }
    });
    // The flood runs first, so every client has a request in flight while /healthz is probed.
    while (sent < 64) await new Promise((resolve) => setTimeout(resolve, 10));
    const probes: boolean[] = [];
    for (let probe = 0; probe < 15; probe += 1) probes.push(await probeLiveness(service));
    flooding = false;
    await Promise.all(clients);
    // Masking each URL took quadratic time: /healthz answered in 4.4 s at the median, past the probe's 2 s.
    assert.ok(longestFailureRun(probes) < livenessProbe.failureThreshold, `liveness probes under the flood (${sent} flood requests): ${probes.join(" ")}`);
  });

  it("logs only the cut-short path of a request no caller was authenticated for", async () => {
    const response = await fetch(`${service.url}/nowhere/${"b".repeat(400)}?phone=13812345678`);
    assert.equal(response.status, 404);
    const { req } = await completedLine(service, response.headers.get("x-request-id") ?? "");
    assert.equal(req.url, `/nowhere/${"b".repeat(256 - "/nowhere/".length)}…`);
  });

  it("logs an authenticated caller's URL whole, decoded and masked", async () => {
    const response = await fetch(`${service.url}/api/v1/conversations?cursor=13812345678`);
    assert.equal(response.status, 400);
    const { req } = await completedLine(service, response.headers.get("x-request-id") ?? "");
    assert.equal(req.url, "/api/v1/conversations?cursor=138****5678");
    // Found by the fuzz tier: percent-escapes hid the boundaries the detectors look for.
    const escaped = await fetch(`${service.url}/api/v1/knowledge/jobs/x%2C13812345678%2011010519491231002X`);
    const line = await completedLine(service, escaped.headers.get("x-request-id") ?? "");
    assert.equal(line.req.url, "/api/v1/knowledge/jobs/x,138****5678 110***********002X");
  });

  it("answers under the client's x-request-id only when it has a safe form that masking leaves alone", async () => {
    for (const id of ["trace-7f3a.9c:1", "0af7651916cd43dd8448eb211c80319c"]) {
      const response = await fetch(`${service.url}/healthz`, { headers: { "x-request-id": id } });
      assert.equal(response.headers.get("x-request-id"), id);
    }
    for (const id of ["13812345678", "zhang@example.com", "10.1.2.3", "a b", "x".repeat(200), "-leading-dash", "é"]) {
      const response = await fetch(`${service.url}/healthz`, { headers: { "x-request-id": encodeURI(id) } });
      const answered = response.headers.get("x-request-id") ?? "";
      assert.notEqual(answered, encodeURI(id));
      assert.match(answered, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      await completedLine(service, answered);
    }
    assert.ok(!service.logs.some((line) => line.includes("13812345678") || line.includes("zhang@example.com")), "a request id reached the log unmasked");
  });

  it("refuses messages over limits.maxRequestChars together, whatever their role, part or tool call, with a 413", async () => {
    const completion = (messages: unknown[]) => postJson(`${service.url}/v1/chat/completions`, { model: "m", messages: [...messages, { role: "user", content: "when does the office open?" }] });
    const big = "a".repeat(40000);
    const oversized = [
      [{ role: "system", content: "s".repeat(100000) }],
      [{ role: "system", content: big }, { role: "assistant", content: big }],
      [{ role: "user", content: [{ type: "text", text: big }, { type: "text", text: big }] }],
      [{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "lookup", arguments: JSON.stringify({ q: `${big}${big}` }) } }] }],
      [{ role: "tool", tool_call_id: "c1", content: `${big}${big}` }],
    ];
    for (const messages of oversized) {
      const { status, body } = await completion(messages);
      assert.equal(status, 413, JSON.stringify(body));
      assert.equal((body as ErrorBody).error.code, "request_too_large");
      assert.match((body as ErrorBody).error.message, /limits\.maxRequestChars/);
    }
    assert.equal((await completion([{ role: "system", content: big }])).status, 200);
  });

  it("refuses skill arguments over limits.maxRequestChars with a 413, before looking for the skill", async () => {
    const { status, body } = await postJson(`${service.url}/api/v1/skills/anything/invoke`, { arguments: { note: "n".repeat(70000) } });
    assert.equal(status, 413);
    assert.equal((body as ErrorBody).error.code, "request_too_large");
  });

  it("ends a stream's connection when the client sent Connection: close", async () => {
    const body = JSON.stringify({ message: "when does the office open?", stream: true });
    const { host } = new URL(service.url);
    // Resolves only once the server closes the connection, which a fixed keep-alive never did.
    const exchange = await rawExchange(
      service.url,
      `POST /api/v1/chat HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    const [head = "", events = ""] = exchange.split("\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /\r\nconnection: close/i);
    assert.doesNotMatch(head, /keep-alive/i);
    assert.match(events, /event: done/);
  });
});
