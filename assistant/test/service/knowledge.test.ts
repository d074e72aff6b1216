import assert from "node:assert/strict";
import { apiClient, type ErrorBody } from "../support/client.js";
import { docxOf, pdfOf } from "../support/documents.js";
import { KNOWLEDGE } from "../support/knowledge.js";
import { settledJob, uploadFile, type DocumentView, type JobView, type SearchHit } from "../support/knowledge-api.js";
import { startService, waitForLog, type RunningService } from "../support/service.js";
import { STORE_KINDS, storePlacement } from "../support/stores.js";

const CALLERS = {
  alice: { key: "acme-alice-Kd8Fj3Lm9Qw2Er5T", tenant: "acme", user: "alice" },
  bob: { key: "acme-bob-Zx4Cv7Bn1Mq8Wp3Y", tenant: "acme", user: "bob" },
  eve: { key: "globex-eve-Hs6Gt2Jy9Ku4Lo1P", tenant: "globex", user: "eve" },
};
type Caller = keyof typeof CALLERS;

for (const store of STORE_KINDS) {
  describe(`knowledge API (${store} store)`, function () {
    this.timeout(120000);
    let service: RunningService;
    const as = (name: Caller) => apiClient(service.url, CALLERS[name].key);
    const search = async (name: Caller, query: string, topK = 10) => {
      const reply = await as(name)<{ items: SearchHit[] }>("POST", "/api/v1/knowledge/search", { query, topK });
      assert.equal(reply.status, 200);
      return reply.body.items;
    };
    const addText = async (name: Caller, body: Record<string, unknown>): Promise<JobView> => {
      const reply = await as(name)<{ job: JobView }>("POST", "/api/v1/knowledge/documents", body);
      assert.equal(reply.status, 202, JSON.stringify(reply.body));
      return settledJob(as(name), reply.body.job.id);
    };

    before(async () => {
      const placement = await storePlacement(store);
      service = await startService({
        knowledge: KNOWLEDGE,
        env: placement.env,
        config: {
          storage: placement.storage,
          auth: { mode: "apiKey", apiKeys: Object.entries(CALLERS).map(([name, { key, tenant, user }]) => ({ name, key, tenant, user })) },
          privacy: { maskKnowledge: true },
          knowledge: { maxUploadBytes: 65536 },
        },
      });
    });
    after(async () => {
      await service.stop();
    });

    it("ingests a JSON text in the background: 202 with a job, then the document, its chunks in search, and a cited chat answer", async () => {
      const reply = await as("alice")<{ job: JobView }>("POST", "/api/v1/knowledge/documents", {
        source: "policies/travel.md",
        text: "# Travel policy\n\nEconomy class is booked for flights under six hours.\n\n## Hotels\n\nHotels are booked through the travel portal.\n",
      });
      assert.equal(reply.status, 202);
      assert.equal(reply.headers.get("location"), `/api/v1/knowledge/jobs/${reply.body.job.id}`);
      assert.deepEqual([reply.body.job.source, reply.body.job.format], ["policies/travel.md", "markdown"]);
      const job = await settledJob(as("alice"), reply.body.job.id);
      assert.deepEqual([job.status, job.outcome, job.attempts, job.chunkCount], ["succeeded", "indexed", 1, 2]);

      const document = await as("bob")<DocumentView>("GET", `/api/v1/knowledge/documents/${job.documentId ?? ""}`);
      assert.equal(document.status, 200);
      assert.deepEqual([document.body.title, document.body.source, document.body.scope, document.body.version, document.body.chunkCount], ["Travel policy", "policies/travel.md", "tenant", 1, 2]);
      const listed = await as("bob")<{ items: DocumentView[] }>("GET", "/api/v1/knowledge/documents");
      assert.deepEqual(listed.body.items.map((item) => [item.scope, item.source]).sort(), [
        ["assistant", "facilities.txt"],
        ["assistant", "hr/leave.md"],
        ["assistant", "it/vpn.md"],
        ["tenant", "policies/travel.md"],
      ]);
      const paged: DocumentView[] = [];
      for (let query = "?limit=3"; ; ) {
        const page = await as("bob")<{ items: DocumentView[]; nextCursor: string | null }>("GET", `/api/v1/knowledge/documents${query}`);
        assert.ok(page.body.items.length <= 3);
        paged.push(...page.body.items);
        if (page.body.nextCursor === null) break;
        query = `?limit=3&cursor=${encodeURIComponent(page.body.nextCursor)}`;
      }
      assert.deepEqual(paged, listed.body.items);
      const madeUp = await as("bob")<{ error: { code: string } }>("GET", "/api/v1/knowledge/documents?cursor=bm90LW91cnM");
      assert.deepEqual([madeUp.status, madeUp.body.error.code], [400, "invalid_cursor"]);
      assert.equal((await as("bob")("GET", "/api/v1/knowledge/documents?limit=0")).status, 400);

      const [hit] = await search("bob", "how are hotels booked?");
      assert.deepEqual([hit?.documentId, hit?.title, hit?.section, hit?.scope], [job.documentId, "Travel policy", "Hotels", "tenant"]);
      assert.ok((hit?.score ?? 0) > 0);
      const chat = await as("alice")<{ sources: { documentId: string; title: string; section: string }[] }>("POST", "/api/v1/chat", { message: "How are hotels booked?" });
      assert.deepEqual([chat.body.sources[0]?.documentId, chat.body.sources[0]?.section], [job.documentId, "Hotels"]);
    });

    it("reads uploaded .md, .txt, .html, .docx and .pdf files with their headings", async () => {
      const files = [
        { name: "onboarding.md", content: "# Onboarding\n\nNew hires collect their laptop on day one.\n", query: "laptop day one", title: "Onboarding" },
        { name: "canteen.txt", content: "The canteen serves vegetarian dishes every day.\n", query: "vegetarian dishes", title: "canteen" },
        { name: "security.html", content: "<html><body><h1>安全规定</h1><p>访客必须在前台登记。</p><script>x()</script></body></html>", query: "访客登记", title: "安全规定" },
        { name: "expenses.docx", content: docxOf([{ heading: "报销制度" }, { paragraph: "发票需在三十天内提交。" }]), query: "发票提交", title: "报销制度" },
        { name: "parking.pdf", content: pdfOf([["Parking rules", "Electric cars charge on level two."]]), query: "electric cars charge", title: "parking" },
      ];
      for (const file of files) {
        const reply = await uploadFile(service.url, CALLERS.alice.key, file);
        assert.equal(reply.status, 202, `${file.name}: ${JSON.stringify(reply.body)}`);
        const job = await settledJob(as("alice"), reply.body.job.id);
        assert.equal(job.status, "succeeded", `${file.name}: ${job.error ?? ""}`);
        const [hit] = await search("alice", file.query, 1);
        assert.deepEqual([hit?.source, hit?.title], [file.name, file.title], file.query);
      }
      const named = await uploadFile(service.url, CALLERS.alice.key, { name: "x.md", content: "quarterly roadmap review" }, { source: "plans/roadmap.md", title: "Roadmap" });
      await settledJob(as("alice"), named.body.job.id);
      assert.deepEqual((await search("alice", "roadmap review", 1)).map((hit) => [hit.source, hit.title]), [["plans/roadmap.md", "Roadmap"]]);
    });

    it("skips unchanged content and replaces a new version's chunks under the same document id", async () => {
      const first = await addText("alice", { source: "faq.md", text: "# FAQ\n\nThe office closes at six." });
      const same = await addText("alice", { source: "faq.md", text: "# FAQ\n\nThe office closes at six." });
      assert.deepEqual([same.status, same.outcome, same.documentId], ["succeeded", "unchanged", first.documentId]);
      const second = await addText("alice", { source: "faq.md", text: "# FAQ\n\nThe office closes at eight since March." });
      assert.deepEqual([second.outcome, second.documentId], ["indexed", first.documentId]);
      const document = await as("alice")<DocumentView>("GET", `/api/v1/knowledge/documents/${first.documentId ?? ""}`);
      assert.equal(document.body.version, 2);
      const hits = await search("alice", "office closes");
      assert.ok(hits.some((hit) => /eight since March/.test(hit.text)));
      assert.ok(!hits.some((hit) => /closes at six/.test(hit.text)), "the old version's chunk is still found");
    });

    it("masks personal data in ingested text when privacy.maskKnowledge is on", async () => {
      await addText("alice", { source: "contacts.md", text: "# Helpdesk\n\nCall 13812345678 or mail helpdesk.lead@acme.example for the helpdesk." });
      const [hit] = await search("alice", "helpdesk");
      assert.match(hit?.text ?? "", /138\*\*\*\*5678/);
      assert.doesNotMatch(JSON.stringify(await search("alice", "helpdesk")), /13812345678|helpdesk\.lead@/);
    });

    it("reports a document that cannot be read as a failed job with the reason", async () => {
      const reply = await uploadFile(service.url, CALLERS.alice.key, { name: "broken.pdf", content: "%PDF-1.4 not really" });
      assert.equal(reply.status, 202);
      const job = await settledJob(as("alice"), reply.body.job.id);
      assert.deepEqual([job.status, job.attempts, job.documentId], ["failed", 1, null]);
      assert.match(job.error ?? "", /not a readable PDF/);
      const jobs = await as("alice")<{ items: JobView[] }>("GET", "/api/v1/knowledge/jobs?limit=2");
      assert.equal(jobs.body.items[0]?.id, job.id);
    });

    it("refuses bad uploads with a clear 4xx", async () => {
      const truncatedMultipart = async () => {
        const response = await fetch(`${service.url}/api/v1/knowledge/documents`, {
          method: "POST",
          headers: { authorization: `Bearer ${CALLERS.alice.key}`, "content-type": "multipart/form-data; boundary=x" },
          body: '--x\r\nContent-Disposition: form-data; name="file"; filename="a.md"\r\n\r\nno closing boundary',
        });
        return { status: response.status, body: await response.json() };
      };
      const plainText = async () => {
        const response = await fetch(`${service.url}/api/v1/knowledge/documents`, {
          method: "POST",
          headers: { authorization: `Bearer ${CALLERS.alice.key}`, "content-type": "text/plain" },
          body: '{"source": "a.md", "text": "JSON sent as text"}',
        });
        return { status: response.status, body: await response.json() };
      };
      const cases: [Promise<{ status: number; body: unknown }>, number, string][] = [
        [plainText(), 415, "unsupported_media_type"],
        [uploadFile(service.url, CALLERS.alice.key, { name: "virus.exe", content: "MZ" }), 415, "unsupported_media_type"],
        [uploadFile(service.url, CALLERS.alice.key, { name: "big.txt", content: "a".repeat(70000) }), 413, "payload_too_large"],
        [uploadFile(service.url, CALLERS.alice.key, { name: "a.md", content: "x" }, { source: "bad\u0001name" }), 400, "invalid_request"],
        [as("alice")("POST", "/api/v1/knowledge/documents", { source: "a.md" }), 400, "invalid_request"],
        [as("alice")("POST", "/api/v1/knowledge/documents", { source: "a.md", text: "x", format: "pdf" }), 400, "invalid_request"],
        [as("alice")("POST", "/api/v1/knowledge/documents", { source: " ", text: "x" }), 400, "invalid_request"],
        [as("alice")("POST", "/api/v1/knowledge/documents", { source: "a.md", text: "x".repeat(70000) }), 413, "payload_too_large"],
        [as("alice")("POST", "/api/v1/knowledge/documents", undefined, { "content-type": "multipart/form-data; boundary=x" }), 400, "invalid_request"],
        [truncatedMultipart(), 400, "invalid_multipart"],
        [as("alice")("POST", "/api/v1/knowledge/search", { query: "x", topK: 500 }), 400, "invalid_request"],
        [as("alice")("POST", "/api/v1/knowledge/search", { query: "" }), 400, "invalid_request"],
        [as("alice")("GET", "/api/v1/knowledge/documents/not a uuid!"), 400, "invalid_request"],
        [as("alice")("GET", "/api/v1/knowledge/jobs/00000000-0000-0000-0000-000000000000"), 404, "job_not_found"],
      ];
      for (const [request, status, code] of cases) {
        const reply = await request;
        assert.equal(reply.status, status, JSON.stringify(reply.body));
        assert.equal((reply.body as ErrorBody).error.code, code);
      }
    });

    it("never lets another tenant read, search, cite, replace or delete a tenant's documents or jobs", async () => {
      const job = await addText("alice", { source: "secret/merger.md", text: "# Project Falcon\n\nThe merger with Initech closes in May." });
      const id = job.documentId ?? "";
      // Same source, other tenant: a document of its own, never a new version of acme's.
      const theirs = await addText("eve", { source: "secret/merger.md", text: "# Globex notes\n\nNothing about falcons here." });
      assert.notEqual(theirs.documentId, id);
      assert.equal((await as("alice")<DocumentView>("GET", `/api/v1/knowledge/documents/${id}`)).body.version, 1);

      const missing = await as("eve")<ErrorBody>("GET", "/api/v1/knowledge/documents/00000000-0000-0000-0000-000000000000");
      const foreign = await as("eve")<ErrorBody>("GET", `/api/v1/knowledge/documents/${id}`);
      assert.deepEqual([foreign.status, foreign.body.error.code], [missing.status, missing.body.error.code]);
      assert.equal(foreign.status, 404);
      assert.equal((await as("eve")("DELETE", `/api/v1/knowledge/documents/${id}`)).status, 404);
      assert.equal((await as("alice")("GET", `/api/v1/knowledge/documents/${id}`)).status, 200);
      const listed = await as("eve")<{ items: DocumentView[] }>("GET", "/api/v1/knowledge/documents");
      assert.ok(!listed.body.items.some((item) => item.id === id || item.scope === "tenant" && item.source !== "secret/merger.md"), JSON.stringify(listed.body));
      assert.ok(!(await search("eve", "merger Initech Falcon May")).some((hit) => /Initech/.test(hit.text)));
      const chat = await as("eve")<{ reply: string; sources: { documentId: string }[] }>("POST", "/api/v1/chat", { message: "When does the merger with Initech close?" });
      assert.ok(!chat.body.sources.some((source) => source.documentId === id) && !/Initech closes/.test(chat.body.reply));
      const completion = await as("eve")<{ choices: { message: { content: string } }[] }>("POST", "/v1/chat/completions", { model: "extractive", messages: [{ role: "user", content: "merger Initech" }] });
      assert.doesNotMatch(JSON.stringify(completion.body), /Initech closes/);
      assert.equal((await as("eve")("GET", `/api/v1/knowledge/jobs/${job.id}`)).status, 404);
      assert.ok(!(await as("eve")<{ items: JobView[] }>("GET", "/api/v1/knowledge/jobs?limit=100")).body.items.some((item) => item.id === job.id));
      // A user of the same tenant shares the tenant's documents.
      assert.ok((await search("bob", "merger Initech")).some((hit) => hit.documentId === id));
      assert.equal((await as("bob")("GET", `/api/v1/knowledge/jobs/${job.id}`)).status, 200);
    });

    it("shares the assistant's own documents with every tenant, read-only", async () => {
      for (const name of Object.keys(CALLERS) as Caller[]) {
        const [hit] = await search(name, "How do I connect to the VPN?", 1);
        assert.deepEqual([hit?.source, hit?.scope], ["it/vpn.md", "assistant"], name);
        const refused = await as(name)<ErrorBody>("DELETE", `/api/v1/knowledge/documents/${hit?.documentId ?? ""}`);
        assert.deepEqual([refused.status, refused.body.error.code], [403, "read_only_document"]);
      }
    });

    it("deletes a tenant's document with its chunks, and audits every knowledge write without its content", async () => {
      const job = await addText("alice", { source: "temp.md", text: "ephemeral zebra notes" });
      const deleted = await as("bob")("DELETE", `/api/v1/knowledge/documents/${job.documentId ?? ""}`);
      assert.equal(deleted.status, 204);
      assert.equal((await as("alice")("GET", `/api/v1/knowledge/documents/${job.documentId ?? ""}`)).status, 404);
      assert.deepEqual(await search("alice", "zebra"), []);
      const requestId = deleted.headers.get("x-request-id") ?? "";
      const line = await waitForLog(service, (entry) => entry.includes(`"reqId":"${requestId}"`) && entry.includes('"msg":"audit"'));
      const audit = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual([audit["method"], audit["route"], audit["status"]], ["DELETE", "/api/v1/knowledge/documents/:id", 204]);
      assert.deepEqual(audit["actor"], { tenant: "acme", user: "bob", authMethod: "apiKey", keyName: "bob" });
      const uploads = service.logs.filter((entry) => entry.includes('"msg":"audit"') && entry.includes('"route":"/api/v1/knowledge/documents"'));
      assert.ok(uploads.length > 5);
      assert.ok(!service.logs.some((entry) => /zebra|Initech|13812345678/.test(entry)), "document content reached the log");
    });
  });
}
