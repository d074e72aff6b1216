import assert from "node:assert/strict";
import { estimateHeldBytes, HistoryCache } from "../../src/storage/history-cache.js";
import type { NewTurn, TurnMessage } from "../../src/storage/types.js";
import { collectGarbage } from "../support/gc.js";

const alice = { tenant: "acme", user: "alice" };
const said = (...contents: string[]): NewTurn[] =>
  contents.map((content, index) => ({ role: index % 2 === 0 ? "user" : "assistant", content, sources: [], promptTokens: null, completionTokens: null }));
const contents = (turns: readonly TurnMessage[] | undefined) => turns?.map((turn) => turn.content);

describe("history cache", () => {
  it("holds a conversation from its creation, and its appended turns, for its owner alone", () => {
    const cache = new HistoryCache(100, 1_000_000);
    assert.equal(cache.recent(alice, "c1", 10), undefined);
    cache.appended(alice, "c1", said("hi", "hello"), true);
    cache.appended(alice, "c1", said("again", "sure"), false);
    assert.deepEqual(contents(cache.recent(alice, "c1", 3)), ["hello", "again", "sure"]);
    assert.deepEqual(contents(cache.recent(alice, "c1", 10)), ["hi", "hello", "again", "sure"]);
    assert.deepEqual(cache.recent({ tenant: "acme", user: "bob" }, "c1", 10), []);
    assert.deepEqual(cache.recent({ tenant: "other", user: "alice" }, "c1", 10), []);
    cache.forget("c1");
    assert.equal(cache.recent(alice, "c1", 10), undefined);
  });

  it("asks the store for more turns than a read of it returned, unless that read was all there is", () => {
    const cache = new HistoryCache(100, 1_000_000);
    const stored = said("a", "b", "c").map(({ role, content }) => ({ role, content }));
    cache.remember(alice, "partial", stored, 3);
    assert.deepEqual(contents(cache.recent(alice, "partial", 3)), ["a", "b", "c"]);
    assert.equal(cache.recent(alice, "partial", 4), undefined);
    cache.remember(alice, "whole", stored, 10);
    assert.deepEqual(contents(cache.recent(alice, "whole", 50)), ["a", "b", "c"]);
    cache.remember(alice, "unknown", [], 10);
    assert.equal(cache.recent(alice, "unknown", 10), undefined);
    // Turns appended to a conversation it does not hold are left to the store.
    cache.appended(alice, "elsewhere", said("x"), false);
    assert.equal(cache.recent(alice, "elsewhere", 1), undefined);
  });

  it("keeps only the newest turns it may hold, and then no longer answers for the whole conversation", () => {
    const cache = new HistoryCache(3, 1_000_000);
    cache.appended(alice, "c1", said("1", "2"), true);
    cache.appended(alice, "c1", said("3", "4"), false);
    assert.deepEqual(contents(cache.recent(alice, "c1", 3)), ["2", "3", "4"]);
    assert.equal(cache.recent(alice, "c1", 4), undefined);
  });

  it("lets the least recently used conversations go once the heap it holds passes its budget", () => {
    const one = estimateHeldBytes(said("aaaa"));
    const cache = new HistoryCache(100, 2 * one);
    cache.appended(alice, "old", said("aaaa"), true);
    cache.appended(alice, "used", said("bbbb"), true);
    assert.notEqual(cache.recent(alice, "old", 1), undefined);
    cache.appended(alice, "new", said("cccc"), true);
    assert.equal(cache.recent(alice, "used", 1), undefined);
    assert.deepEqual(contents(cache.recent(alice, "old", 1)), ["aaaa"]);
    assert.deepEqual(contents(cache.recent(alice, "new", 1)), ["cccc"]);
    cache.appended(alice, "huge", said("x".repeat(one)), true);
    assert.equal(cache.recent(alice, "huge", 1), undefined);
    assert.deepEqual(contents(cache.recent(alice, "new", 1)), ["cccc"]);
    cache.appended(alice, "new", said("dddd"), false);
    assert.equal(cache.recent(alice, "old", 1), undefined);
    assert.deepEqual(contents(cache.recent(alice, "new", 2)), ["cccc", "dddd"]);
  });

  it("estimates the heap it holds from above", () => {
    const cache = new HistoryCache(100, Number.MAX_SAFE_INTEGER);
    const ids = Array.from({ length: 5000 }, (_, index) => `c${index}`);
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    for (const id of ids) cache.appended(alice, id, said(...Array.from({ length: 6 }, (_, turn) => `turn ${turn} of ${id}, 第${turn}轮`)), true);
    collectGarbage();
    const held = process.memoryUsage().heapUsed - before;
    const estimated = ids.reduce((sum, id) => sum + estimateHeldBytes(cache.recent(alice, id, 6) ?? []), 0);
    assert.ok(estimated >= held && estimated < 3 * held, `estimated ${estimated} bytes, held ${held}`);
  });
});
