import assert from "node:assert/strict";
import { Registry, type Histogram } from "prom-client";
import { WorkQueue } from "../../../src/runtime/workqueue.js";
import { ManualClock, settle } from "./manual-clock.js";

async function metricValue(registry: Registry, name: string, queue: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((value) => value.labels["name"] === queue && !("le" in value.labels))?.value;
}

/** Whether `promise` has settled, without waiting for it. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await settle();
  return settled;
}

describe("WorkQueue", function () {
  let clock: ManualClock;
  let registry: Registry;
  let queue: WorkQueue;

  beforeEach(function () {
    clock = new ManualClock();
    registry = new Registry();
    queue = new WorkQueue({ name: "test", registry, clock });
  });

  it("hands out a key added twice once, in order of first add", async function () {
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    assert.equal(queue.len(), 2);
    assert.equal(await queue.get(), "ns/a");
    assert.equal(await queue.get(), "ns/b");
    assert.equal(queue.len(), 0);
    assert.equal(await isSettled(queue.get()), false, "nothing else is queued");
    queue.shutDown();
  });

  it("never hands a key in process to a second worker; an add meanwhile requeues it after done", async function () {
    queue.add("ns/a");
    const key = await queue.get();
    assert.equal(key, "ns/a");
    queue.add("ns/a");
    queue.add("ns/a");
    assert.equal(queue.len(), 0, "held back while in process");
    assert.equal(queue.depth(), 1);
    const second = queue.get();
    assert.equal(await isSettled(second), false);
    queue.done("ns/a");
    assert.equal(await second, "ns/a", "once, however often it was added");
    queue.done("ns/a");
    assert.equal(queue.depth(), 0);
  });

  it("wakes one waiting worker per key", async function () {
    const first = queue.get();
    const second = queue.get();
    queue.add("ns/a");
    assert.equal(await first, "ns/a");
    assert.equal(await isSettled(second), false);
    queue.add("ns/b");
    assert.equal(await second, "ns/b");
  });

  it("adds after a delay; of several delays for one key the earliest wins", async function () {
    queue.addAfter("ns/a", 100);
    queue.addAfter("ns/a", 50);
    queue.addAfter("ns/a", 200);
    clock.advance(49);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
    assert.equal(clock.pending(), 0, "the later delays were folded into the earliest");
    queue.addAfter("ns/b", 0);
    assert.equal(queue.len(), 2, "no delay adds at once");
    assert.equal(await queue.get(), "ns/a");
  });

  it("retries with the per-key backoff and forgets it on success", function () {
    queue.addRateLimited("ns/a");
    queue.addRateLimited("ns/a");
    queue.addRateLimited("ns/a");
    assert.equal(queue.numRequeues("ns/a"), 3);
    clock.advance(4);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1, "the earliest retry (5 ms) came due");
    queue.forget("ns/a");
    assert.equal(queue.numRequeues("ns/a"), 0);
  });

  it("after shutDown: drains what is queued, then answers undefined, ignores adds and cancels delayed ones", async function () {
    const waiting = queue.get();
    queue.shutDown();
    assert.equal(await waiting, undefined, "a waiting worker is released");

    const other = new WorkQueue({ name: "other", registry, clock });
    other.add("ns/a");
    other.addAfter("ns/b", 10);
    other.shutDown();
    other.add("ns/c");
    other.addRateLimited("ns/d");
    assert.equal(clock.pending(), 0);
    assert.equal(await other.get(), "ns/a");
    assert.equal(await other.get(), undefined);
    assert.equal(other.isShuttingDown(), true);
  });

  it("records client-go's workqueue metrics", async function () {
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    queue.addRateLimited("ns/c");
    assert.equal(await metricValue(registry, "workqueue_adds_total", "test"), 2);
    assert.equal(await metricValue(registry, "workqueue_retries_total", "test"), 1);
    assert.equal(await metricValue(registry, "workqueue_depth", "test"), 2);
    clock.advance(250);
    const key = await queue.get();
    assert.equal(key, "ns/a");
    clock.advance(1500);
    assert.equal(await metricValue(registry, "workqueue_longest_running_processor_seconds", "test"), 1.5);
    assert.equal(await metricValue(registry, "workqueue_unfinished_work_seconds", "test"), 1.5);
    queue.done(key);
    const queueDuration = await (registry.getSingleMetric("workqueue_queue_duration_seconds") as Histogram | undefined)?.get();
    assert.equal(queueDuration?.values.find((v) => v.metricName === "workqueue_queue_duration_seconds_sum")?.value, 0.25);
    const workDuration = await (registry.getSingleMetric("workqueue_work_duration_seconds") as Histogram | undefined)?.get();
    assert.equal(workDuration?.values.find((v) => v.metricName === "workqueue_work_duration_seconds_sum")?.value, 1.5);
    assert.equal(await metricValue(registry, "workqueue_longest_running_processor_seconds", "test"), 0);
  });
});
