import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { apiClient } from "../support/client.js";
import { pdfOf } from "../support/documents.js";
import type { DocumentView, SearchHit } from "../support/knowledge-api.js";
import { startService, tempDir, type RunningService } from "../support/service.js";

/** A small intranet: pages the test can change while the assistant runs. */
async function startIntranet(pages: Map<string, { type: string; body: string | Buffer }>): Promise<{ base: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const page = pages.get(request.url ?? "");
    if (page === undefined) {
      response.writeHead(404).end("not here");
      return;
    }
    response.writeHead(200, { "content-type": page.type }).end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

describe("knowledge from URLs", function () {
  this.timeout(60000);
  const pages = new Map<string, { type: string; body: string | Buffer }>([
    ["/handbook", { type: "text/html; charset=utf-8", body: "<h1>Handbook</h1><p>The wombat room is on floor three.</p>" }],
    ["/policies/safety.pdf", { type: "application/octet-stream", body: pdfOf([["Safety", "Hard hats are required in the numbat workshop."]]) }],
    ["/notes", { type: "text/markdown", body: "# Notes\n\nThe bilby desk answers questions." }],
  ]);
  let intranet: Awaited<ReturnType<typeof startIntranet>>;
  let service: RunningService;
  const dataDir = tempDir("url-data");
  const search = async (query: string): Promise<string[]> =>
    (await apiClient(service.url)<{ items: SearchHit[] }>("POST", "/api/v1/knowledge/search", { query })).body.items.map((item) => `${item.source} ${item.scope}: ${item.text}`);
  const start = (paths: string[]) =>
    startService({ dataDir, config: { knowledge: { urls: paths.map((path) => ({ url: `${intranet.base}${path}` })), urlRefreshSeconds: 1 } } });

  before(async () => {
    intranet = await startIntranet(pages);
    service = await start(["/handbook", "/policies/safety.pdf", "/notes", "/missing"]);
  });
  after(async () => {
    await service.stop();
    await intranet.close();
  });

  it("ingests every URL it can fetch before it is ready, by media type or extension, as the assistant's own", async () => {
    assert.deepEqual(await search("wombat"), [`${intranet.base}/handbook assistant: The wombat room is on floor three.`]);
    assert.equal((await search("numbat workshop")).length, 1);
    assert.equal((await search("bilby")).length, 1);
    assert.ok(service.logs.some((line) => line.includes("knowledge URL could not be fetched") && line.includes("/missing") && line.includes("HTTP 404")));
  });

  it("re-fetches changed pages, keeps the last version while a page is down, and drops URLs no longer listed", async () => {
    pages.set("/handbook", { type: "text/html", body: "<h1>Handbook</h1><p>The wombat room moved to floor five.</p>" });
    pages.delete("/notes");
    while (!(await search("wombat")).some((hit) => hit.includes("floor five"))) await sleep(100);
    assert.equal((await search("bilby")).length, 1, "a page that is down lost its document");
    await service.stop();
    service = await start(["/handbook"]);
    assert.deepEqual(await search("bilby numbat"), []);
    const documents = await apiClient(service.url)<{ items: DocumentView[] }>("GET", "/api/v1/knowledge/documents");
    assert.deepEqual(documents.body.items.map((item) => item.source), [`${intranet.base}/handbook`]);
  });
});
