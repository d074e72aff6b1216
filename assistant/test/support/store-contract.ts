import assert from "node:assert/strict";
import { queryTerms, indexTerms } from "../../src/retrieval/text.js";
import { ConversationNotFoundError, InvalidCursorError, type NewTurn, type Storage } from "../../src/storage/types.js";

/** A store to test: empty at first; `reopen` closes it and opens the same data again, as a restart would. */
export interface StoreUnderTest {
  storage: Storage;
  reopen(): Promise<Storage>;
  /** Removes whatever the store left behind. */
  dispose(): Promise<void>;
}

const owner = { tenant: "t", user: "u" };
const turn = (role: "user" | "assistant", content: string): NewTurn => ({ role, content, sources: [], promptTokens: null, completionTokens: null });

const doc = (source: string, texts: string[], hash = source, embeddings?: number[][]) => ({
  source,
  title: source,
  contentHash: hash,
  chunks: texts.map((text, ordinal) => {
    const embedding = embeddings?.[ordinal];
    return { ordinal, heading: "", text, terms: indexTerms(text), ...(embedding === undefined ? {} : { embedding: Float32Array.from(embedding) }) };
  }),
});

/**
 * The storage contract, run against every store (embedded SQLite in the unit tier, PostgreSQL with
 * pgvector in the service tier), so both behave the same to everything above them.
 */
export function describeStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${name}: the storage contract`, function () {
    this.timeout(30000);
    let current: StoreUnderTest;
    let storage: Storage;
    beforeEach(async () => {
      current = await open();
      storage = current.storage;
    });
    afterEach(async () => {
      await current.dispose();
    });

    it("creates a conversation with its first turns and reopens it after a restart", async () => {
      await storage.appendTurns(owner, "c1", [turn("user", "hi"), turn("assistant", "hello")], "hi");
      await storage.appendTurns(owner, "c1", [turn("user", "again"), turn("assistant", "sure")]);
      storage = await current.reopen();
      const conversation = await storage.getConversation(owner, "c1");
      assert.equal(conversation?.turnCount, 4);
      assert.deepEqual((await storage.listTurns(owner, "c1")).map((t) => [t.seq, t.role, t.content]), [
        [1, "user", "hi"],
        [2, "assistant", "hello"],
        [3, "user", "again"],
        [4, "assistant", "sure"],
      ]);
      assert.deepEqual((await storage.recentTurns(owner, "c1", 2)).map((t) => t.content), ["again", "sure"]);
    });

    it("reads the newest turns as committed, across appends, a refused append, a restart and a delete", async () => {
      const recent = async (limit: number, who = owner, id = "c1") => (await storage.recentTurns(who, id, limit)).map((t) => `${t.role}:${t.content}`);
      await storage.appendTurns(owner, "c1", [turn("user", "hi"), turn("assistant", "hello")], "hi");
      assert.deepEqual(await recent(10), ["user:hi", "assistant:hello"]);
      await storage.appendTurns(owner, "c1", [turn("user", "again"), turn("assistant", "sure")]);
      assert.deepEqual(await recent(3), ["assistant:hello", "user:again", "assistant:sure"]);
      const stranger = { tenant: owner.tenant, user: "mallory" };
      await assert.rejects(storage.appendTurns(stranger, "c1", [turn("user", "intrusion")]), ConversationNotFoundError);
      assert.deepEqual(await recent(10, stranger), []);
      assert.deepEqual(await recent(10), ["user:hi", "assistant:hello", "user:again", "assistant:sure"]);
      storage = await current.reopen();
      assert.deepEqual(await recent(2), ["user:again", "assistant:sure"]);
      await storage.appendTurns(owner, "c1", [turn("user", "third")]);
      assert.deepEqual(await recent(10), ["user:hi", "assistant:hello", "user:again", "assistant:sure", "user:third"]);
      assert.equal(await storage.deleteConversation(owner, "c1"), true);
      assert.deepEqual(await recent(10), []);
      await storage.appendTurns(owner, "c1", [turn("user", "anew")], "anew");
      assert.deepEqual(await recent(10), ["user:anew"]);
    });

    it("refuses turns for a conversation that does not exist", async () => {
      await assert.rejects(storage.appendTurns(owner, "missing", [turn("user", "x")]), ConversationNotFoundError);
    });

    it("keeps tenants, and users within a tenant, apart", async () => {
      await storage.appendTurns(owner, "c1", [turn("user", "secret")], "secret");
      for (const stranger of [{ tenant: "other", user: owner.user }, { tenant: owner.tenant, user: "other" }]) {
        assert.equal(await storage.getConversation(stranger, "c1"), undefined);
        assert.deepEqual(await storage.listTurns(stranger, "c1"), []);
        assert.deepEqual(await storage.recentTurns(stranger, "c1", 10), []);
        assert.equal(await storage.deleteConversation(stranger, "c1"), false);
        assert.equal((await storage.listConversations(stranger, 10, undefined)).items.length, 0);
        await assert.rejects(storage.appendTurns(stranger, "c1", [turn("user", "intrusion")]), ConversationNotFoundError);
      }
      assert.deepEqual((await storage.listTurns(owner, "c1")).map((t) => t.content), ["secret"]);
      await storage.putDocument("a", doc("a.md", ["private vacation policy"]));
      assert.deepEqual(await storage.searchChunks(["b"], ["vacation"], 5), []);
      assert.equal((await storage.searchChunks(["a"], ["vacation"], 5)).length, 1);
    });

    it("pages conversations newest first with an opaque cursor", async () => {
      for (let index = 0; index < 5; index += 1) {
        await storage.appendTurns(owner, `c${index}`, [turn("user", `m${index}`)], `m${index}`);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await storage.listConversations(owner, 2, cursor);
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      assert.deepEqual(seen, ["c4", "c3", "c2", "c1", "c0"]);
      await assert.rejects(storage.listConversations(owner, 2, "not-a-cursor"), InvalidCursorError);
    });

    it("deletes a conversation with its turns", async () => {
      await storage.appendTurns(owner, "c1", [turn("user", "x")], "x");
      assert.equal(await storage.deleteConversation(owner, "c1"), true);
      assert.equal(await storage.getConversation(owner, "c1"), undefined);
      assert.deepEqual(await storage.listTurns(owner, "c1"), []);
    });

    it("ranks chunks with BM25 and stems English", async () => {
      await storage.putDocument("t", doc("vpn.md", ["Connecting to the VPN requires the client.", "The cafeteria opens at noon."]));
      await storage.putDocument("t", doc("misc.md", ["VPN VPN VPN connection problems are handled by the VPN desk."]));
      const hits = await storage.searchChunks(["t"], queryTerms("how do I connect the vpn"), 5);
      assert.equal(hits.length, 2);
      assert.ok(hits.every((hit) => /vpn/i.test(hit.text)));
      assert.ok(hits[0] !== undefined && hits[1] !== undefined && hits[0].score >= hits[1].score);
      // "connect" finds "Connecting" and "connection" only through stemming.
      const stemmed = await storage.searchChunks(["t"], queryTerms("connect"), 5);
      assert.deepEqual(stemmed.map((hit) => hit.source).sort(), ["misc.md", "vpn.md"]);
    });

    it("finds Chinese words inside segmented text", async () => {
      await storage.putDocument("t", doc("hr.md", ["员工入职满一年后享有5天带薪年假。", "食堂中午十二点开放。"]));
      const hits = await storage.searchChunks(["t"], queryTerms("年假有几天"), 5);
      assert.equal(hits.length, 1);
      assert.match(hits[0]?.text ?? "", /年假/);
    });

    it("treats query syntax as plain words", async () => {
      await storage.putDocument("t", doc("a.md", ["alpha beta"]));
      const syntax = ['"', "NEAR(", "*", "OR", "AND", "NOT", ")", "'", ":*", "!", "\\", "|", "&", "<->", "^"];
      assert.deepEqual(await storage.searchChunks(["t"], syntax, 5), []);
      assert.deepEqual((await storage.searchChunks(["t"], [...syntax, "alpha"], 5)).map((hit) => hit.text), ["alpha beta"]);
    });

    it("replaces a changed document atomically under the same id and skips an unchanged one", async () => {
      const first = await storage.putDocument("t", doc("a.md", ["old words"], "h1"));
      assert.equal(first.changed, true);
      assert.equal((await storage.putDocument("t", doc("a.md", ["old words"], "h1"))).changed, false);
      const second = await storage.putDocument("t", doc("a.md", ["new words", "more new words"], "h2"));
      assert.equal(second.changed, true);
      assert.equal(second.id, first.id);
      assert.deepEqual(
        await storage.getDocument(["t"], first.id).then((document) => [document?.version, document?.chunkCount, document?.contentHash]),
        [2, 2, "h2"],
      );
      assert.deepEqual(await storage.searchChunks(["t"], ["old"], 5), []);
      assert.equal((await storage.searchChunks(["t"], ["new"], 5)).length, 2);
      assert.equal((await storage.listDocuments("t")).length, 1);
      assert.equal(await storage.countDocuments(["t"]), 1);
      assert.equal(await storage.countDocuments(["other"]), 0);
      assert.equal(await storage.deleteDocument("other", second.id), false);
      assert.equal(await storage.deleteDocument("t", second.id), true);
      assert.deepEqual(await storage.searchChunks(["t"], ["new"], 5), []);
    });

    it("pages through the documents of the given collections by source, bytewise, and refuses a made-up cursor", async () => {
      // Mixed-case, non-ASCII and a source both collections hold: the order must be the same in every store.
      const sources = ["b.md", "B.md", "a.md", "年假.md", "z/x.md", "shared.md"];
      for (const source of sources) await storage.putDocument("tenant/a", doc(source, [`text of ${source}`]));
      await storage.putDocument("assistant", doc("shared.md", ["the assistant's own"]));
      await storage.putDocument("assistant", doc("c.md", ["another of its own"]));
      await storage.putDocument("tenant/b", doc("a0.md", ["not readable here"]));
      const seen: { source: string; collection: string }[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await storage.pageDocuments(["assistant", "tenant/a"], 3, cursor);
        assert.ok(page.items.length <= 3);
        seen.push(...page.items.map(({ source, collection }) => ({ source, collection })));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(
        seen.map((item) => item.source),
        ["B.md", "a.md", "b.md", "c.md", "shared.md", "shared.md", "z/x.md", "年假.md"],
      );
      assert.deepEqual(new Set(seen.filter((item) => item.source === "shared.md").map((item) => item.collection)), new Set(["assistant", "tenant/a"]));
      assert.deepEqual(await storage.pageDocuments(["tenant/c"], 10, undefined), { items: [], nextCursor: null });
      await assert.rejects(storage.pageDocuments(["tenant/a"], 3, "bm90IG91cnM"), InvalidCursorError);
    });

    it("searches, counts and reads only the collections it is given", async () => {
      const shared = await storage.putDocument("assistant", doc("handbook.md", ["shared travel policy"]));
      const own = await storage.putDocument("tenant/a", doc("a.md", ["travel notes of tenant a"]));
      await storage.putDocument("tenant/b", doc("b.md", ["travel secrets of tenant b"]));
      const hits = await storage.searchChunks(["assistant", "tenant/a"], ["travel"], 10);
      assert.deepEqual(hits.map((hit) => [hit.collection, hit.source]).sort(), [["assistant", "handbook.md"], ["tenant/a", "a.md"]]);
      assert.equal(await storage.countDocuments(["assistant", "tenant/a"]), 2);
      assert.equal((await storage.getDocument(["assistant", "tenant/a"], own.id))?.source, "a.md");
      assert.equal(await storage.getDocument(["tenant/a"], shared.id), undefined);
      assert.equal(await storage.deleteDocument("tenant/a", shared.id), false);
    });

    describe("ingestion jobs", () => {
      const job = (source: string, content = "x") => ({ collection: "tenant/a", source, format: "text", contentHash: `h-${content}`, content: Buffer.from(content) });
      const now = () => new Date().toISOString();

      it("hands out queued jobs in order, with their upload, and keeps a retry of one document ahead of its newer upload", async () => {
        const first = await storage.enqueueJob(job("a.txt", "v1"));
        const second = await storage.enqueueJob(job("a.txt", "v2"));
        const other = await storage.enqueueJob({ ...job("b.txt"), collection: "tenant/b" });
        assert.deepEqual([first.status, first.attempts, first.bytes], ["queued", 0, 2]);
        const claimed = await storage.claimJob(now());
        assert.deepEqual([claimed?.id, claimed?.status, claimed?.attempts, claimed?.content.toString()], [first.id, "running", 1, "v1"]);
        // While a.txt v1 is unfinished, v2 waits; another tenant's job may go.
        assert.equal((await storage.claimJob(now()))?.id, other.id);
        await storage.completeJob(other.id, { outcome: "indexed", documentId: "d0", chunkCount: 1 });
        assert.equal(await storage.claimJob(now()), undefined);
        // v2 is queued but cannot run yet: nothing is due, so an idle worker waits instead of spinning.
        assert.equal(await storage.nextJobTime(), undefined);
        const later = new Date(Date.now() + 60000).toISOString();
        await storage.failJob(first.id, "endpoint down", later);
        assert.deepEqual(await storage.getJob("tenant/a", first.id).then((j) => [j?.status, j?.error]), ["queued", "endpoint down"]);
        assert.equal(await storage.nextJobTime(), later, "the soonest runnable job is v1's retry, not the v2 behind it");
        assert.equal(await storage.claimJob(now()), undefined, "v2 overtook the retry of v1");
        assert.equal((await storage.claimJob(later))?.id, first.id);
        await storage.completeJob(first.id, { outcome: "indexed", documentId: "d1", chunkCount: 3 });
        assert.equal((await storage.claimJob(later))?.id, second.id);
        assert.deepEqual(await storage.getJob("tenant/a", first.id).then((j) => [j?.status, j?.outcome, j?.documentId, j?.chunkCount, j?.error]), ["succeeded", "indexed", "d1", 3, null]);
      });

      it("runs one job of a tenant at a time and gives every tenant a turn, not the first uploader all of its jobs", async () => {
        const a = [await storage.enqueueJob(job("a1.txt")), await storage.enqueueJob(job("a2.txt")), await storage.enqueueJob(job("a3.txt"))];
        const b = await storage.enqueueJob({ ...job("b1.txt"), collection: "tenant/b" });
        const c = await storage.enqueueJob({ ...job("c1.txt"), collection: "tenant/c" });
        assert.equal((await storage.claimJob(now()))?.id, a[0]?.id);
        // tenant/a has a job running: its others wait, and no worker is due to wake for them.
        assert.equal((await storage.claimJob(now()))?.id, b.id);
        assert.equal((await storage.claimJob(now()))?.id, c.id);
        assert.equal(await storage.claimJob(now()), undefined);
        assert.equal(await storage.nextJobTime(), undefined);
        for (const ended of [c, b, a[0]]) {
          await storage.completeJob(ended?.id ?? "", { outcome: "indexed", documentId: "d", chunkCount: 1 });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        // tenant/c was served longest ago: its new upload goes before tenant/a's older ones.
        const late = await storage.enqueueJob({ ...job("c2.txt"), collection: "tenant/c" });
        assert.equal((await storage.claimJob(now()))?.id, late.id);
        assert.equal((await storage.claimJob(now()))?.id, a[1]?.id);
        assert.equal(await storage.claimJob(now()), undefined);
        await storage.completeJob(a[1]?.id ?? "", { outcome: "indexed", documentId: "d", chunkCount: 1 });
        assert.equal((await storage.claimJob(now()))?.id, a[2]?.id);
      });

      it("puts a job it stops working on back without counting the attempt, and keeps it while it is touched", async () => {
        const queued = await storage.enqueueJob(job("a.txt"));
        assert.equal((await storage.claimJob(now()))?.attempts, 1);
        await storage.touchJob(queued.id);
        assert.equal((await storage.getJob("tenant/a", queued.id))?.status, "running");
        await storage.releaseJob(queued.id);
        assert.deepEqual(await storage.getJob("tenant/a", queued.id).then((j) => [j?.status, j?.attempts]), ["queued", 0]);
        assert.equal((await storage.claimJob(now()))?.attempts, 1);
        await storage.completeJob(queued.id, { outcome: "indexed", documentId: "d1", chunkCount: 1 });
        // Releasing or touching a job that ended changes nothing.
        await storage.releaseJob(queued.id);
        await storage.touchJob(queued.id);
        assert.equal((await storage.getJob("tenant/a", queued.id))?.status, "succeeded");
      });

      it("fails the unfinished jobs of one deleted document, and no other, and a cancelled job stays failed", async () => {
        const running = await storage.enqueueJob(job("a.txt", "v1"));
        assert.equal((await storage.claimJob(now()))?.id, running.id);
        const queuedA = await storage.enqueueJob(job("a.txt", "v2"));
        const queuedB = await storage.enqueueJob(job("b.txt"));
        const otherTenant = await storage.enqueueJob({ ...job("a.txt"), collection: "tenant/b" });
        assert.equal(await storage.cancelUnfinishedJobs("tenant/a", "a.txt", "deleted"), 2);
        for (const cancelled of [queuedA, running]) {
          assert.deepEqual(await storage.getJob("tenant/a", cancelled.id).then((j) => [j?.status, j?.error]), ["failed", "deleted"]);
        }
        // The worker that was running it ends its attempt as usual: the cancellation stands.
        await storage.failJob(running.id, "disk hiccup", new Date().toISOString());
        await storage.completeJob(running.id, { outcome: "indexed", documentId: "d1", chunkCount: 1 });
        assert.deepEqual(await storage.getJob("tenant/a", running.id).then((j) => [j?.status, j?.error]), ["failed", "deleted"]);
        assert.equal((await storage.getJob("tenant/a", queuedB.id))?.status, "queued");
        assert.equal((await storage.getJob("tenant/b", otherTenant.id))?.status, "queued");
      });

      it("stores a job's document only while the job runs: a cancellation in between wins", async () => {
        const document = (text: string) => ({ source: "a.txt", title: "A", contentHash: `h-${text}`, chunks: [{ ordinal: 0, heading: "", text, terms: text }] });
        const first = await storage.enqueueJob(job("a.txt", "v1"));
        assert.equal((await storage.claimJob(now()))?.id, first.id);
        const stored = await storage.storeJobDocument(first.id, "tenant/a", document("first draft"));
        assert.equal(stored?.changed, true);
        await storage.completeJob(first.id, { outcome: "indexed", documentId: stored?.id ?? "", chunkCount: 1 });
        const second = await storage.enqueueJob(job("a.txt", "v2"));
        assert.equal((await storage.claimJob(now()))?.id, second.id);
        await storage.cancelUnfinishedJobs("tenant/a", "a.txt", "deleted");
        assert.equal(await storage.deleteDocument("tenant/a", stored?.id ?? ""), true);
        assert.equal(await storage.storeJobDocument(second.id, "tenant/a", document("second draft")), undefined);
        assert.equal(await storage.findDocument("tenant/a", "a.txt"), undefined, "the deleted document came back");
      });

      it("finds the job of a document's content that is on its way, or failed after running since a time, a cancellation aside", async () => {
        const hourAgo = new Date(Date.now() - 3600000).toISOString();
        const find = (source: string, content: string, since = hourAgo) => storage.jobFor("tenant/a", source, `h-${content}`, since);
        const queued = await storage.enqueueJob(job("a.txt", "v1"));
        assert.deepEqual([await find("a.txt", "v1"), await find("a.txt", "v2"), await find("b.txt", "v1")], [{ id: queued.id, unfinished: true }, undefined, undefined]);
        assert.equal(await storage.jobFor("tenant/b", "a.txt", "h-v1", hourAgo), undefined);
        assert.equal((await storage.claimJob(now()))?.id, queued.id);
        assert.deepEqual(await find("a.txt", "v1"), { id: queued.id, unfinished: true }, "running");
        await storage.failJob(queued.id, "not a readable PDF file", undefined);
        assert.deepEqual(await find("a.txt", "v1"), { id: queued.id, unfinished: false }, "failed within the hour");
        assert.equal(await find("a.txt", "v1", new Date(Date.now() + 1000).toISOString()), undefined, "failed before the given time");
        const retried = await storage.enqueueJob(job("a.txt", "v1"));
        assert.deepEqual(await find("a.txt", "v1"), { id: retried.id, unfinished: true }, "one on its way goes before one that failed");
        await storage.enqueueJob(job("c.txt", "v1"));
        await storage.cancelUnfinishedJobs("tenant/a", "c.txt", "deleted");
        assert.equal(await find("c.txt", "v1"), undefined, "a cancelled job never ran");
      });

      it("counts a run cut short by a stopped process as an attempt, and fails the job once it has used them all", async () => {
        const poisonous = await storage.enqueueJob(job("crash.pdf"));
        const maxAttempts = 2;
        for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
          assert.deepEqual(await storage.claimJob(now()).then((j) => [j?.id, j?.attempts]), [poisonous.id, attempt]);
          // The process crashed on it (kill -9): the next start finds it still running.
          storage = await current.reopen();
          const outcome = await storage.requeueRunningJobs(maxAttempts);
          assert.deepEqual(outcome, attempt < maxAttempts ? { requeued: 1, failed: 0 } : { requeued: 0, failed: 1 });
        }
        const failed = await storage.getJob("tenant/a", poisonous.id);
        assert.deepEqual([failed?.status, failed?.attempts], ["failed", maxAttempts]);
        assert.equal(failed?.error, "the process stopped during each of its 2 attempts (knowledge.maxAttempts is 2): the document may be what stops it");
        assert.equal(await storage.claimJob(now()), undefined, "the poisonous job ran again");
        assert.deepEqual(
          await storage.jobFor("tenant/a", "crash.pdf", "h-x", new Date(Date.now() - 60000).toISOString()),
          { id: poisonous.id, unfinished: false },
          "a re-sync leaves the failed content be instead of bringing it back at once",
        );
      });

      it("queues interrupted jobs again, fails jobs for good, shows a collection only its own jobs, and prunes ended ones", async () => {
        const interrupted = await storage.enqueueJob(job("a.txt"));
        assert.equal((await storage.claimJob(now()))?.id, interrupted.id);
        // The process that claimed it is gone: a restart (a new store on the same data) takes it back.
        storage = await current.reopen();
        assert.deepEqual(await storage.requeueRunningJobs(3), { requeued: 1, failed: 0 });
        assert.deepEqual(await storage.getJob("tenant/a", interrupted.id).then((j) => [j?.status, j?.error]), ["queued", "attempt 1 was cut short: the process stopped while it ran"]);
        assert.equal((await storage.claimJob(now()))?.attempts, 2);
        await storage.failJob(interrupted.id, "not a PDF");
        assert.deepEqual(await storage.getJob("tenant/a", interrupted.id).then((j) => [j?.status, j?.error]), ["failed", "not a PDF"]);
        assert.equal(await storage.claimJob(now()), undefined);
        assert.equal(await storage.getJob("tenant/b", interrupted.id), undefined);
        assert.deepEqual(await storage.listJobs("tenant/b", 10), []);
        assert.deepEqual((await storage.listJobs("tenant/a", 10)).map((j) => j.id), [interrupted.id]);
      const waiting = await storage.enqueueJob(job("b.txt"));
      assert.equal(await storage.pruneJobs(new Date(Date.now() - 60000).toISOString()), 0);
      assert.equal(await storage.pruneJobs(new Date(Date.now() + 60000).toISOString()), 1);
      assert.deepEqual((await storage.listJobs("tenant/a", 10)).map((j) => j.id), [waiting.id]);
      });
    });

    it("finds the nearest chunk vectors within the given collections, replaces them with a new version, and keeps them across a restart", async () => {
      await storage.putDocument("assistant", doc("a.md", ["alpha", "beta"], "h1", [[1, 0, 0], [0, 1, 0]]));
      await storage.putDocument("tenant/a", doc("b.md", ["gamma"], "h2", [[0.9, 0.1, 0]]));
      await storage.putDocument("tenant/b", doc("c.md", ["delta"], "h3", [[1, 0, 0]]));
      const nearest = await storage.searchVectors(["assistant", "tenant/a"], Float32Array.from([1, 0, 0]), 2);
      assert.deepEqual(nearest.map((hit) => [hit.text, hit.collection]), [["alpha", "assistant"], ["gamma", "tenant/a"]]);
      assert.ok(Math.abs((nearest[0]?.score ?? 0) - 1) < 1e-6 && (nearest[1]?.score ?? 0) < 1);
      assert.deepEqual(await storage.searchVectors(["tenant/c"], Float32Array.from([1, 0, 0]), 5), []);
      assert.deepEqual(await storage.searchVectors(["assistant"], Float32Array.from([1, 0]), 5), [], "a vector of another length was compared");
      await storage.putDocument("assistant", doc("a.md", ["epsilon"], "h4", [[0, 0, 1]]));
      storage = await current.reopen();
      assert.deepEqual((await storage.searchVectors(["assistant"], Float32Array.from([1, 0, 0.1]), 5)).map((hit) => hit.text), ["epsilon"]);
      const [gamma] = await storage.searchVectors(["tenant/a"], Float32Array.from([1, 0, 0]), 1);
      assert.equal(await storage.deleteDocument("tenant/a", gamma?.documentId ?? ""), true);
      assert.deepEqual(await storage.searchVectors(["tenant/a"], Float32Array.from([1, 0, 0]), 1), []);
      assert.equal((await storage.findDocument("assistant", "a.md"))?.version, 2);
    });
  });
}
