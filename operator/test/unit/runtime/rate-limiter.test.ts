import assert from "node:assert/strict";
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, defaultControllerRateLimiter } from "../../../src/runtime/rate-limiter.js";
import { ManualClock } from "./manual-clock.js";

describe("rate limiters", function () {
  it("back one item off exponentially from 5 ms, capped at 1000 s, without touching others", function () {
    const limiter = new ItemExponentialFailureRateLimiter(5, 1_000_000);
    assert.deepEqual(
      Array.from({ length: 5 }, () => limiter.when("a")),
      [5, 10, 20, 40, 80],
    );
    assert.equal(limiter.numRequeues("a"), 5);
    assert.equal(limiter.when("b"), 5, "another key starts at the base delay");
    for (let i = 0; i < 2000; i++) limiter.when("a");
    assert.equal(limiter.when("a"), 1_000_000, "capped, also far past where 2^n overflows");
    limiter.forget("a");
    assert.equal(limiter.numRequeues("a"), 0);
    assert.equal(limiter.when("a"), 5);
  });

  it("let a burst of 100 through, then spread retries at 10 per second", function () {
    const clock = new ManualClock();
    const bucket = new BucketRateLimiter(10, 100, clock);
    for (let i = 0; i < 100; i++) assert.equal(bucket.when(), 0, `retry ${i} is within the burst`);
    assert.equal(bucket.when(), 100);
    assert.equal(bucket.when(), 200);
    clock.advance(1000);
    // 10 tokens came back and paid the debt of 2: 8 free retries, then 100 ms apart again.
    for (let i = 0; i < 8; i++) assert.equal(Math.round(bucket.when()), 0);
    assert.equal(Math.round(bucket.when()), 100);
    clock.advance(3_600_000);
    for (let i = 0; i < 100; i++) assert.equal(bucket.when(), 0, "an idle hour refills no more than the burst");
    assert.equal(bucket.when(), 100);
  });

  it("default: the larger of the per-item backoff and the overall bucket, as client-go", function () {
    const clock = new ManualClock();
    const limiter = defaultControllerRateLimiter(clock);
    for (let i = 0; i < 100; i++) assert.equal(limiter.when(`key-${i}`), 5, "fresh keys inside the burst wait the per-item base");
    assert.equal(limiter.when("key-100"), 100, "the 101st retry waits for the bucket");
    assert.equal(limiter.when("key-0"), 200, "bucket delay beats key-0's second-failure 10 ms");
    assert.equal(limiter.numRequeues("key-0"), 2);
    limiter.forget("key-0");
    assert.equal(limiter.numRequeues("key-0"), 0);
  });
});
