import assert from "node:assert/strict";
import { connect, createServer } from "node:net";
import pg from "pg";
import { apiClient } from "../support/client.js";
import { KNOWLEDGE } from "../support/knowledge.js";
import { settledJob, type JobView, type SearchHit } from "../support/knowledge-api.js";
import { freePort } from "../support/postgres.js";
import { testPostgres } from "../support/postgres-tier.js";
import { runFailingService, startService, type RunningService } from "../support/service.js";

const KEY = "acme-alice-Kd8Fj3Lm9Qw2Er5T";

describe("stateless replicas on one PostgreSQL store", function () {
  this.timeout(120000);
  let replicas: RunningService[] = [];
  let databaseUrl = "";
  before(async () => {
    databaseUrl = await testPostgres().createDatabase();
    const env = { DATABASE_URL: databaseUrl };
    const config = { storage: { mode: "postgres", urlEnv: "DATABASE_URL" }, auth: { mode: "apiKey", apiKeys: [{ name: "alice", key: KEY, tenant: "acme", user: "alice" }] } };
    // Both start together: the schema is created once, under the migration lock.
    replicas = await Promise.all([startService({ knowledge: KNOWLEDGE, config, env }), startService({ knowledge: KNOWLEDGE, config, env })]);
  });
  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
  });
  const on = (index: number) => apiClient(replicas[index]?.url ?? "", KEY);

  it("reports ready only once the mounted knowledge is indexed, whichever replica indexes it", async () => {
    // Started together, one replica queues the folder's documents and the other finds them on their
    // way: it must wait for those jobs too, or it answers "not found" while the Service calls it ready.
    for (const index of [0, 1]) {
      const hits = await on(index)<{ items: SearchHit[] }>("POST", "/api/v1/knowledge/search", { query: "年假有几天？" });
      assert.equal(hits.body.items[0]?.source, "hr/leave.md", `replica ${String(index)}`);
    }
  });

  it("serves a conversation started on one replica from the other", async () => {
    const first = await on(0)<{ conversationId: string }>("POST", "/api/v1/chat", { message: "How do I connect to the VPN?" });
    assert.equal(first.status, 200);
    const next = await on(1)<{ sources: { source: string }[] }>("POST", "/api/v1/chat", { message: "年假有几天？", conversationId: first.body.conversationId });
    assert.equal(next.status, 200);
    assert.equal(next.body.sources[0]?.source, "hr/leave.md");
    const stored = await on(0)<{ turnCount: number }>("GET", `/api/v1/conversations/${first.body.conversationId}`);
    assert.equal(stored.body.turnCount, 4);
  });

  it("shares documents and the ingestion queue: each job runs once, on whichever replica claims it", async () => {
    const jobs: JobView[] = [];
    for (let index = 0; index < 12; index += 1) {
      const reply = await on(index % 2)<{ job: JobView }>("POST", "/api/v1/knowledge/documents", { source: `notes/${index}.md`, text: `# Note ${index}\n\nShared note number ${index} about kumquats.` });
      jobs.push(reply.body.job);
    }
    const settled = await Promise.all(jobs.map((job, index) => settledJob(on((index + 1) % 2), job.id)));
    assert.deepEqual(new Set(settled.map((job) => `${job.status}/${String(job.attempts)}`)), new Set(["succeeded/1"]));
    const hits = await on(1)<{ items: SearchHit[] }>("POST", "/api/v1/knowledge/search", { query: "kumquats", topK: 20 });
    assert.equal(hits.body.items.length, 12);
    const claims = replicas.map((replica) => replica.logs.filter((line) => line.includes('"msg":"document ingested"') && line.includes('"outcome":"indexed"') && !line.includes("hr/")).length);
    assert.equal(claims.reduce((total, count) => total + count, 0), 12 + 3, `claims per replica: ${claims.join(", ")}`);
  });

  it("keeps serving when the server drops every connection, as in a restart or failover", async () => {
    // Idle pooled connections first: warm both pools, then cut them from the server side.
    for (const index of [0, 1]) assert.equal((await on(index)("POST", "/api/v1/chat", { message: "How do I connect to the VPN?" })).status, 200);
    const admin = new pg.Client({ connectionString: testPostgres().url });
    await admin.connect();
    try {
      const database = new URL(databaseUrl).pathname.slice(1);
      const cut = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [database]);
      assert.ok((cut.rowCount ?? 0) >= 2, `connections cut: ${String(cut.rowCount)}`);
    } finally {
      await admin.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const [index, replica] of replicas.entries()) {
      assert.equal(replica.child.exitCode, null, `replica ${String(index)} is alive`);
      assert.ok(replica.logs.some((line) => line.includes("an idle PostgreSQL connection broke")), `replica ${String(index)} logged the broken connection`);
      assert.equal((await on(index)("POST", "/api/v1/chat", { message: "年假有几天？" })).status, 200);
    }
  });

  it("refuses to start, without printing the URL, when the database cannot be reached within startupWaitSeconds", async () => {
    const { code, output } = await runFailingService({
      config: { storage: { mode: "postgres", urlEnv: "DATABASE_URL", startupWaitSeconds: 1 } },
      env: { DATABASE_URL: "postgres://assistant:s3cret-pw@127.0.0.1:1/assistant" },
    });
    assert.equal(code, 1);
    assert.match(output, /waiting for the database/);
    assert.match(output, /cannot open the storage/);
    assert.doesNotMatch(output, /s3cret-pw/);
  });

  it("waits for a database that comes up after it, as a pod started beside its Postgres does", async () => {
    // Nothing listens on the port yet: the service keeps trying. Then a proxy to the real server opens there.
    const port = await freePort();
    const target = new URL(await testPostgres().createDatabase());
    const starting = startService({
      config: { storage: { mode: "postgres", urlEnv: "DATABASE_URL" } },
      env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${String(port)}${target.pathname}` },
      knowledge: KNOWLEDGE,
    });
    const proxy = createServer((socket) => {
      const upstream = connect(Number(target.port), "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
    try {
      const late = await starting;
      try {
        assert.ok(late.logs.some((line) => line.includes("waiting for the database")));
        assert.equal((await apiClient(late.url)("POST", "/api/v1/chat", { message: "年假有几天？" })).status, 200);
      } finally {
        await late.stop();
      }
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("refuses a database not encoded in UTF8, whose full-text search would drop every Chinese word", async () => {
    const { code, output } = await runFailingService({
      config: { storage: { mode: "postgres", urlEnv: "DATABASE_URL" } },
      env: { DATABASE_URL: await testPostgres().createDatabase("SQL_ASCII") },
    });
    assert.equal(code, 1);
    assert.match(output, /encoded in SQL_ASCII; the assistant needs UTF8/);
  });
});
