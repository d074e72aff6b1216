import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { finishStream, startFakeOpenAI, startStream, writeDelta } from "../support/fake-openai.js";
import { runFailingService, sseEvents, startService, waitForLog } from "../support/service.js";

/**
 * Queues one streamed answer on the fake model that sends `first`, then holds the stream open
 * until the returned function is called, then sends `rest` and finishes.
 */
function holdStream(fake: Awaited<ReturnType<typeof startFakeOpenAI>>, first: string, rest?: string): () => void {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  fake.queue.push(async (response) => {
    startStream(response);
    writeDelta(response, first);
    await released;
    if (rest !== undefined) writeDelta(response, rest);
    finishStream(response);
  });
  return release;
}

describe("lifecycle", () => {
  const badConfigs: { name: string; config: Record<string, unknown>; field: RegExp }[] = [
    { name: "an unknown provider", config: { model: { provider: "magic" } }, field: /config field model\.provider/ },
    { name: "an unknown key", config: { knowlege: {} }, field: /config field knowlege/ },
    { name: "a missing knowledge directory", config: { knowledge: { dir: "/nonexistent/kb" } }, field: /config field knowledge\.dir/ },
    {
      name: "a skill whose host is not allow-listed",
      config: { skills: [{ name: "lookup", description: "Look up", endpoint: { url: "http://erp.internal:8080/orders" } }] },
      field: /config field skills\.0\.endpoint\.url: host erp\.internal:8080 is not in skillHosts/,
    },
    { name: "API-key auth without keys", config: { auth: { mode: "apiKey" } }, field: /config field auth\.apiKeysDir: auth\.mode apiKey needs apiKeysDir or apiKeys/ },
    { name: "an API key folder that cannot be read", config: { auth: { mode: "apiKey", apiKeysDir: "/nonexistent/keys" } }, field: /config field auth\.apiKeysDir: cannot read/ },
  ];
  for (const { name, config, field } of badConfigs) {
    it(`refuses to start with ${name}, naming the field`, async () => {
      const { code, output } = await runFailingService({ config });
      assert.equal(code, 2);
      assert.match(output, field);
    });
  }

  it("drains on SIGTERM: not ready, finishes the in-flight stream, closes the database, exits 0", async () => {
    const fake = await startFakeOpenAI();
    const release = holdStream(fake, "part one, ", "part two");
    const service = await startService({
      // No knowledge and no abstention: the model answers whatever is asked, which is what draining needs.
      config: {
        model: { provider: "openai", baseURL: fake.baseURL, name: "fake-model" },
        server: { drainDelayMs: 1000, shutdownGraceMs: 30000 },
        knowledge: { abstention: { enabled: false } },
      },
    });
    try {
      const response = await fetch(`${service.url}/api/v1/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "a long answer please", stream: true }),
      });
      const events = sseEvents(response);
      // Read by hand: leaving a for-await loop early would cancel the response body.
      let first = await events.next();
      while (first.done !== true && first.value.event !== "delta") first = await events.next();
      assert.equal(first.done, false);

      service.child.kill("SIGTERM");
      let readiness = 200;
      while (readiness === 200) readiness = (await fetch(`${service.url}/readyz`, { headers: { connection: "close" } })).status;
      assert.equal(readiness, 503);
      // Still answering while the endpoints catch up, but sending kept-alive clients elsewhere next time.
      const drainingAnswer = await fetch(`${service.url}/healthz`);
      assert.equal(drainingAnswer.status, 200);
      assert.equal(drainingAnswer.headers.get("connection"), "close");

      await waitForLog(service, (line) => line.includes("closing listener"));
      await assert.rejects(fetch(`${service.url}/healthz`, { headers: { connection: "close" } }));
      release();
      let done: { reply: string } | undefined;
      for await (const event of events) {
        if (event.event === "done") done = JSON.parse(event.data) as { reply: string };
      }
      assert.equal(done?.reply, "part one, part two");
      assert.deepEqual(await service.exited, { code: 0, signal: null });
      assert.ok(service.logs.some((line) => line.includes('"msg":"stopped"')));
      // SQLite checkpoints and removes the WAL only when the last connection closes cleanly.
      assert.equal(existsSync(join(service.dataDir, "assistant.db-wal")), false);
    } finally {
      await service.stop();
      await fake.close();
    }
  });

  it("turns away a request that arrives on a busy connection while closing, with the error shape", async () => {
    const fake = await startFakeOpenAI();
    const release = holdStream(fake, "held ");
    const service = await startService({ config: { model: { provider: "openai", baseURL: fake.baseURL, name: "fake-model" }, knowledge: { abstention: { enabled: false } } } });
    try {
      const { port } = new URL(service.url);
      const socket = connect(Number(port), "127.0.0.1");
      let received = "";
      const closed = new Promise<void>((resolve) => socket.once("close", () => { resolve(); }));
      const seen = (text: string) =>
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (received.includes(text)) {
              socket.off("data", check);
              resolve();
            }
          };
          socket.on("data", check);
          check();
        });
      socket.on("data", (bytes: Buffer) => {
        received += bytes.toString("utf8");
      });
      const body = JSON.stringify({ message: "hold on", stream: true });
      socket.write(`POST /api/v1/chat HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await seen("event: delta");
      service.child.kill("SIGTERM");
      await waitForLog(service, (line) => line.includes("closing listener"));
      // Pipelined behind the open stream: the server reads it only after the stream ends, while closing.
      socket.write("GET /api/v1/conversations HTTP/1.1\r\nHost: test\r\n\r\n");
      release();
      await closed;
      assert.match(received, /event: done/);
      assert.match(received, /HTTP\/1\.1 503/);
      assert.match(received, /"code":"shutting_down"/);
      assert.deepEqual(await service.exited, { code: 0, signal: null });
    } finally {
      await service.stop();
      await fake.close();
    }
  });
});
