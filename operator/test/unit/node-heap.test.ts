import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { nodeOptions } from "../../src/resources/node-heap.js";

/** The heap limit, in MiB, that Node reports when started with `options` in NODE_OPTIONS. */
function heapLimitMiB(options: string): number {
  const script = "process.stdout.write(String(require('node:v8').getHeapStatistics().heap_size_limit / 2 ** 20))";
  return Number(execFileSync(process.execPath, ["-e", script], { env: { ...process.env, NODE_OPTIONS: options }, encoding: "utf8" }));
}

describe("NODE_OPTIONS from the memory limit", function () {
  it("gives a semi-space of 1/32 of the limit, at most what an unconstrained process gets", function () {
    assert.equal(nodeOptions(undefined), undefined);
    assert.equal(nodeOptions("0"), undefined);
    assert.equal(nodeOptions("not a quantity"), undefined);
    assert.equal(nodeOptions("128Mi"), "--max-semi-space-size=4");
    assert.equal(nodeOptions("768Mi"), "--max-semi-space-size=24");
    assert.equal(nodeOptions("1G"), "--max-semi-space-size=29");
    assert.equal(nodeOptions("1Gi"), "--max-semi-space-size=32");
    assert.equal(nodeOptions("8Gi"), "--max-semi-space-size=32");
    assert.equal(nodeOptions(536870912), "--max-semi-space-size=16");
    assert.equal(nodeOptions("16Mi"), "--max-semi-space-size=1");
  });

  it("is accepted from the environment by the Node the image ships, and sizes its heap", function () {
    this.timeout(20000);
    // The young generation is three semi-spaces, and counts in the heap limit beside the old one.
    const old = "--max-old-space-size=256";
    assert.equal(heapLimitMiB(`${old} ${nodeOptions("512Mi") ?? ""}`) - heapLimitMiB(`${old} ${nodeOptions("64Mi") ?? ""}`), 3 * (16 - 2));
  });
});
