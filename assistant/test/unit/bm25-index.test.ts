import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { indexTerms, queryTerms } from "../../src/retrieval/text.js";
import { Bm25Index, type RankedChunk } from "../../src/storage/bm25-index.js";
import { ChunkIndex } from "../../src/storage/chunk-index.js";
import { DATABASE_FILE, openSqliteStorage } from "../../src/storage/sqlite.js";
import type { Storage } from "../../src/storage/types.js";

/** A deterministic corpus whose word frequencies fall off like natural text's (Zipf), in both languages. */
const ENGLISH = (
  "policy approve approved approves approving request requests laptop vpn password reset expense expenses travel " +
  "manager portal quarter review badge parking onboarding backup email payroll security firewall printer desk " +
  "account access contract invoice budget vendor training leave holiday office meeting room booking shuttle"
).split(" ");
const CHINESE = (
  "年假 报销 差旅 加班 社保 公积金 考勤 入职 离职 培训 绩效 采购 合同 门禁 会议室 申请 审批 部门 系统 账号 " +
  "密码 邮箱 电脑 网络 打印机 发票 预算 供应商 付款 财务 工资 福利 体检 保险 停车 食堂 班车 安全 数据 备份"
).split(" ");

function corpus(seed: number, documents: number): { source: string; texts: string[] }[] {
  let state = seed;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  // Rank r is drawn with probability ~ 1/r.
  const zipf = (words: string[]): string => words[Math.floor(Math.exp(random() * Math.log(words.length + 1))) - 1] ?? "";
  return Array.from({ length: documents }, (_, index) => {
    const words = index % 2 === 0 ? ENGLISH : CHINESE;
    const texts = Array.from({ length: 1 + (index % 3) }, () =>
      Array.from({ length: 5 + Math.floor(random() * 40) }, () => zipf(words)).join(words === ENGLISH ? " " : ""),
    );
    return { source: `doc-${index}.md`, texts };
  });
}

const QUERIES = [
  "How do I approve a travel expense request?",
  "vpn password reset",
  "Who reviews the firewall policy every quarter?",
  "年假需要怎么申请？",
  "报销发票由哪个部门审批",
  "会议室 booking 和 食堂",
  "printer",
  "nothing matches this zebra",
];

interface Ranked {
  chunkId: number;
  score: number;
}

function assertSameRanking(actual: Ranked[], expected: Ranked[], context: string): void {
  assert.deepEqual(
    actual.map((hit) => hit.chunkId),
    expected.map((hit) => hit.chunkId),
    context,
  );
  actual.forEach((hit, index) => {
    const exact = expected[index]?.score ?? NaN;
    assert.ok(Math.abs(hit.score - exact) <= 1e-12 * Math.abs(exact), `${context}: score ${hit.score} != ${exact}`);
  });
}

describe("in-memory BM25 index", () => {
  let dir: string;
  let storage: Storage;
  let oracle: Database.Database;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "assistant-bm25-"));
    storage = openSqliteStorage(dir, "normal");
    for (const [collection, seed] of [["assistant", 7], ["tenant/a", 11]] as const) {
      for (const { source, texts } of corpus(seed, 120)) {
        await storage.putDocument(collection, {
          source,
          title: source,
          contentHash: source,
          chunks: texts.map((text, ordinal) => ({ ordinal, heading: "", text, terms: indexTerms(text) })),
        });
      }
    }
    oracle = new Database(join(dir, DATABASE_FILE));
  });
  afterEach(async () => {
    oracle.close();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * FTS5's own bm25() over a table holding only the chunks of `collections`: the exact ranking the
   * index must reproduce, with no statistic from any other collection.
   */
  const expectedFor = (collections: string[], terms: string[], limit: number): Ranked[] => {
    oracle.exec("DROP TABLE IF EXISTS temp.scoped; CREATE VIRTUAL TABLE temp.scoped USING fts5 (terms, tokenize = 'porter unicode61')");
    oracle
      .prepare("INSERT INTO temp.scoped (rowid, terms) SELECT f.rowid, f.terms FROM chunks_fts f JOIN chunks c ON c.id = f.rowid WHERE c.collection IN (SELECT value FROM json_each(?))")
      .run(JSON.stringify(collections));
    return oracle
      .prepare<[string, number], Ranked>("SELECT rowid AS chunkId, -bm25(scoped) AS score FROM temp.scoped WHERE scoped MATCH ? ORDER BY score DESC, chunkId LIMIT ?")
      .all(terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" OR "), limit);
  };

  const compareAll = async (context: string): Promise<void> => {
    const loaded = new ChunkIndex(oracle);
    try {
      for (const collections of [["assistant"], ["assistant", "tenant/a"], ["tenant/b"]]) {
        for (const query of QUERIES) {
          for (const limit of [1, 4, 50]) {
            const terms = queryTerms(query);
            const expected = expectedFor(collections, terms, limit);
            const where = `${context}, ${collections.join("+")}, "${query}", top ${limit}`;
            // Built afresh from the table, as at open...
            const fresh = loaded.search(collections, terms, limit, () => assert.fail(`${where}: no phrase term, so FTS5 must not be asked`));
            assertSameRanking(fresh, expected, `${where} (loaded)`);
            // ...and kept in step by every write since.
            const hits = await storage.searchChunks(collections, terms, limit);
            assertSameRanking(hits.map((hit) => ({ chunkId: Number(hit.chunkId), score: hit.score })), expected, `${where} (live)`);
          }
        }
      }
    } finally {
      loaded.close();
    }
  };

  it("returns exactly FTS5's BM25 top k, scores included, for English and Chinese queries", async () => {
    assert.ok(expectedFor(["assistant"], queryTerms(QUERIES[0] ?? ""), 50).length > 10, "the corpus must make the ranking non-trivial");
    await compareAll("after ingestion");
  });

  it("stays exact as documents are replaced, re-indexed unchanged and deleted", async () => {
    for (const { source, texts } of corpus(13, 40)) {
      await storage.putDocument("assistant", {
        source,
        title: source,
        contentHash: `${source}-v2`,
        chunks: texts.map((text, ordinal) => ({ ordinal, heading: "", text, terms: indexTerms(text) })),
      });
    }
    for (const document of (await storage.listDocuments("tenant/a")).slice(0, 30)) {
      assert.equal(await storage.deleteDocument("tenant/a", document.id), true);
    }
    await compareAll("after re-sync");
  });

  it("ranks equal scores by chunk id, and matches a phrase term only where its tokens stand together", async () => {
    for (const source of ["same-1.md", "same-2.md"]) {
      const text = "The VPN server address is vpn.example.com for every office.";
      await storage.putDocument("tenant/a", { source, title: source, contentHash: source, chunks: [{ ordinal: 0, heading: "", text, terms: indexTerms(text) }] });
    }
    const scattered = "An example of a VPN: the com port.";
    await storage.putDocument("tenant/a", { source: "scattered.md", title: "s", contentHash: "s", chunks: [{ ordinal: 0, heading: "", text: scattered, terms: indexTerms(scattered) }] });
    const ties = await storage.searchChunks(["tenant/a"], ["address"], 2);
    assert.equal(ties[0]?.score, ties[1]?.score);
    assert.ok(Number(ties[0]?.chunkId) < Number(ties[1]?.chunkId));
    const hits = await storage.searchChunks(["tenant/a"], queryTerms("what is vpn.example.com"), 4);
    assert.deepEqual(hits.map((hit) => hit.source), ["same-1.md", "same-2.md"]);
    assert.equal(hits[0]?.score, hits[1]?.score);
  });

  it("ranks the passage that writes a function word in capitals for a question that does, above the ones it does not name", async () => {
    const documents = {
      "us.md": "US employees are enrolled in the 401k plan with a 4 percent match.",
      "benefits.md": "Employees in Germany receive a company pension; employees everywhere get a match on donations.",
    };
    for (const [source, text] of Object.entries(documents)) {
      await storage.putDocument("tenant/a", { source, title: source, contentHash: source, chunks: [{ ordinal: 0, heading: "", text, terms: indexTerms(text) }] });
    }
    const hits = await storage.searchChunks(["tenant/a"], queryTerms("What match do US employees get?"), 2);
    assert.deepEqual(hits.map((hit) => hit.source), ["us.md", "benefits.md"]);
  });

  it("scores a tenant's documents the same whatever another tenant's hold: no statistic crosses collections", async () => {
    const own = "Zephyrcorp supplies the office chairs.";
    await storage.putDocument("tenant/b", { source: "chairs.md", title: "c", contentHash: "c", chunks: [{ ordinal: 0, heading: "", text: own, terms: indexTerms(own) }] });
    const scores = async () =>
      Promise.all([queryTerms("zephyrcorp"), queryTerms("zephyrcorp.example.com office")].map(async (terms) => (await storage.searchChunks(["assistant", "tenant/b"], terms, 5)).map((hit) => hit.score)));
    const before = await scores();
    for (let index = 0; index < 8; index += 1) {
      const secret = `Memo ${String(index)}: the Zephyrcorp deal via zephyrcorp.example.com stays confidential.`;
      await storage.putDocument("tenant/a", { source: `memo-${String(index)}.md`, title: "m", contentHash: `m${String(index)}`, chunks: [{ ordinal: 0, heading: "", text: secret, terms: indexTerms(secret) }] });
    }
    assert.deepEqual(await scores(), before);
  });
});

describe("BM25 search that skips chunks which cannot make the list", () => {
  interface Stored {
    chunkId: number;
    collection: string;
    tokens: Map<string, number>;
    length: number;
  }

  /** Every chunk of `collections` scored in full, term by term in query order: what pruning must return, to the bit. */
  function exhaustive(stored: ReadonlyMap<number, Stored>, collections: readonly string[], terms: readonly string[], limit: number, among?: ReadonlySet<number>): RankedChunk[] {
    const live = [...stored.values()].filter((chunk) => collections.includes(chunk.collection));
    if (live.length === 0 || limit <= 0) return [];
    const averageLength = live.reduce((sum, chunk) => sum + chunk.length, 0) / live.length;
    const idfs = terms.map((term) => {
      const matching = live.filter((chunk) => chunk.tokens.has(term)).length;
      if (matching === 0) return undefined;
      const raw = Math.log((live.length - matching + 0.5) / (matching + 0.5));
      return raw > 0 ? raw : 1e-6;
    });
    return live
      .filter((chunk) => among === undefined || among.has(chunk.chunkId))
      .flatMap((chunk) => {
        let score = 0;
        let matched = false;
        terms.forEach((term, index) => {
          const count = chunk.tokens.get(term);
          const idf = idfs[index];
          if (count === undefined || idf === undefined) return;
          matched = true;
          score += idf * ((count * (1.2 + 1)) / (count + 1.2 * (1 - 0.75 + (0.75 * chunk.length) / averageLength)));
        });
        return matched ? [{ chunkId: chunk.chunkId, score }] : [];
      })
      .sort((a, b) => b.score - a.score || a.chunkId - b.chunkId)
      .slice(0, limit);
  }

  it("returns the exhaustive top k through adds, replacements and removals, and the postings and slots they leave dropped", () => {
    let state = 20261204;
    const random = (): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    // Token rank r with probability ~ 1/r: a few tokens in most chunks, most in a few.
    const token = (): string => `t${String(Math.floor(Math.exp(random() * Math.log(401))) - 1)}`;
    const COLLECTIONS = ["a", "b", "c"];
    // Slots given back after 500 removed ones, so that renumbering happens, and often.
    const index = new Bm25Index(500);
    const stored = new Map<number, Stored>();
    let nextId = 0;
    const put = (chunkId: number, tokens: Map<string, number>): void => {
      const chunk = { chunkId, collection: pick(COLLECTIONS), tokens, length: [...tokens.values()].reduce((sum, count) => sum + count, 0) };
      index.add(chunk);
      stored.set(chunkId, chunk);
    };
    const addChunks = (count: number): void => {
      for (let added = 0; added < count; added += 1) {
        // Ids out of slot order, and some chunks the copy of another: equal scores must rank by id.
        const chunkId = (nextId += 1 + Math.floor(random() * 5)) * (random() < 0.5 ? 1 : 3);
        const copied = random() < 0.05 && stored.size > 0 ? pick([...stored.values()]) : undefined;
        const tokens = new Map(copied?.tokens ?? []);
        // Some chunks have no token at all (a heading alone, say).
        const words = copied !== undefined || random() < 0.03 ? 0 : 3 + Math.floor(random() * 150);
        for (let at = words; at > 0; at -= 1) {
          const drawn = token();
          tokens.set(drawn, (tokens.get(drawn) ?? 0) + 1);
        }
        if (!stored.has(chunkId)) put(chunkId, tokens);
      }
    };
    const removeChunks = (share: number): void => {
      for (const chunkId of [...stored.keys()]) {
        if (random() >= share) continue;
        index.remove(chunkId);
        stored.delete(chunkId);
      }
    };
    let filled = 0;
    const check = (phase: string): void => {
      for (let query = 0; query < 150; query += 1) {
        const terms = Array.from({ length: 1 + Math.floor(random() * 12) }, () => (random() < 0.05 ? "absent" : random() < 0.05 ? "hot" : token()));
        const collections = COLLECTIONS.filter(() => random() < 0.6).concat(random() < 0.1 ? ["unknown"] : [], random() < 0.1 ? ["a"] : []);
        const limit = pick([0, 1, 3, 5, 10, 50]);
        const among = random() < 0.2 ? new Set([...stored.keys()].filter(() => random() < 0.3)) : undefined;
        const expected = exhaustive(stored, collections, terms, limit, among);
        const context = `${phase}: ${terms.join(" ")} in ${collections.join("+")}, top ${String(limit)}${among === undefined ? "" : `, among ${String(among.size)}`}`;
        assert.deepEqual(index.search(collections, terms, limit, among), expected, context);
        const { chunks, frequencies } = index.frequencies(collections, terms);
        const live = [...stored.values()].filter((chunk) => collections.includes(chunk.collection));
        assert.equal(chunks, live.length, context);
        assert.deepEqual(frequencies, terms.map((term) => live.filter((chunk) => chunk.tokens.has(term)).length), context);
        if (expected.length === limit) filled += 1;
      }
    };
    addChunks(1500);
    check("after adding 1,500 chunks");
    removeChunks(0.7);
    for (const chunk of [...stored.values()].slice(0, 100)) put(chunk.chunkId, new Map([[token(), 2], [token(), 1], ["t0", 3]]));
    check("after removing 70 % and replacing 100");
    addChunks(500);
    check("after adding 500 more");
    // A document synced again and again: the same few chunks re-added, their old entries left behind.
    const resynced = [...stored.values()].slice(0, 5);
    for (let round = 0; round < 2000; round += 1) {
      for (const chunk of resynced) put(chunk.chunkId, new Map([["hot", 1 + (round % 3)], [token(), 1]]));
    }
    check("after re-adding 5 chunks 2,000 times");
    removeChunks(1);
    check("after removing everything");
    assert.ok(filled > 200, "most queries must fill their list, or nothing could be skipped");
  });
});
