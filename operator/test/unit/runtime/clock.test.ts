import assert from "node:assert/strict";
import { setImmediate } from "node:timers/promises";
import { sleep } from "../../../src/runtime/clock.js";

describe("sleep", function () {
  it("resolves at once for a deadline already past, without Node's negative-timeout warning", async function () {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      await sleep(-1_000);
      // Node emits process warnings on a later tick.
      await setImmediate();
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings, []);
  });
});
