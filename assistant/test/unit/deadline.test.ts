import assert from "node:assert/strict";
import { getEventListeners, once } from "node:events";
import { setImmediate as nextTurn } from "node:timers/promises";
import { deadline } from "../../src/deadline.js";
import { collectGarbage } from "../support/gc.js";

describe("deadline", () => {
  it("aborts with a TimeoutError once its time has run out, and says it expired", async () => {
    const limit = deadline(new AbortController().signal, 20);
    await once(limit.signal, "abort");
    assert.equal((limit.signal.reason as Error).name, "TimeoutError");
    assert.equal(limit.expired(), true);
    limit.clear();
  });

  it("aborts with the caller's reason when the caller goes away first, or had already", () => {
    const caller = new AbortController();
    const limit = deadline(caller.signal, 60_000);
    const gone = new Error("client went away");
    caller.abort(gone);
    assert.equal(limit.signal.reason, gone);
    assert.equal(limit.expired(), false);
    limit.clear();
    const late = deadline(caller.signal, 60_000);
    assert.equal(late.signal.reason, gone);
    late.clear();
  });

  it("holds nothing once cleared: no listener on the caller's signal, its own signal collectable before the time is up", async () => {
    const caller = new AbortController();
    // Made in a function of their own, so that no frame of this test still points at the last one.
    const clearedSignal = (): WeakRef<AbortSignal> => {
      const limit = deadline(caller.signal, 300_000);
      limit.clear();
      return new WeakRef(limit.signal);
    };
    const held = Array.from({ length: 100 }, clearedSignal);
    assert.equal(getEventListeners(caller.signal, "abort").length, 0);
    // A WeakRef keeps its target for the rest of the job that made it.
    await nextTurn();
    collectGarbage();
    assert.equal(held.filter((ref) => ref.deref() !== undefined).length, 0);
  });
});
