import assert from "node:assert/strict";
import { pino } from "pino";
import { Registry } from "prom-client";
import { Controller, FailedWithTimer, type ReconcileOutcome } from "../../../src/runtime/controller.js";
import { WorkQueue } from "../../../src/runtime/workqueue.js";
import { ManualClock, settle } from "./manual-clock.js";

const logger = pino({ level: "silent" });

/** A reconcile whose calls the test completes by hand. */
class ScriptedReconcile {
  readonly calls: string[] = [];
  private readonly pending: { key: string; finish: (outcome: ReconcileOutcome | Error) => void }[] = [];

  readonly reconcile = (key: string): Promise<ReconcileOutcome> => {
    this.calls.push(key);
    return new Promise((resolve, reject) => {
      this.pending.push({
        key,
        finish: (outcome) => {
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      });
    });
  };

  inFlight(): string[] {
    return this.pending.map((call) => call.key);
  }

  async finish(key: string, outcome: ReconcileOutcome | Error): Promise<void> {
    const index = this.pending.findIndex((call) => call.key === key);
    assert.ok(index >= 0, `${key} is not being reconciled`);
    const [call] = this.pending.splice(index, 1);
    call?.finish(outcome);
    await settle();
  }
}

async function total(registry: Registry, result: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric("controller_runtime_reconcile_total")?.get();
  return metric?.values.find((value) => value.labels["result"] === result && value.labels["controller"] === "test")?.value;
}

describe("Controller", function () {
  let clock: ManualClock;
  let registry: Registry;
  let queue: WorkQueue;
  let script: ScriptedReconcile;
  let stop: AbortController;
  let controller: Controller;

  beforeEach(function () {
    clock = new ManualClock();
    registry = new Registry();
    queue = new WorkQueue({ name: "test", registry, clock });
    script = new ScriptedReconcile();
    stop = new AbortController();
    controller = new Controller({ name: "test", queue, workers: 3, reconcile: script.reconcile, logger, registry });
    controller.start(stop.signal);
  });

  afterEach(async function () {
    stop.abort();
    for (const key of script.inFlight()) await script.finish(key, undefined);
    await controller.stopped();
  });

  it("reconciles different keys in parallel but one key at a time", async function () {
    queue.add("ns/a");
    queue.add("ns/b");
    await settle();
    assert.deepEqual(script.inFlight(), ["ns/a", "ns/b"]);
    queue.add("ns/a");
    await settle();
    assert.deepEqual(script.inFlight(), ["ns/a", "ns/b"], "ns/a waits for its running reconcile");
    const active = await registry.getSingleMetric("controller_runtime_active_workers")?.get();
    assert.equal(active?.values[0]?.value, 2);
    await script.finish("ns/a", undefined);
    assert.deepEqual(script.inFlight(), ["ns/b", "ns/a"], "then it runs again, to see the newer state");
    assert.equal(await total(registry, "success"), 1);
  });

  it("retries a failing key with growing backoff and forgets it once it succeeds", async function () {
    queue.add("ns/a");
    await settle();
    await script.finish("ns/a", new Error("boom"));
    assert.equal(queue.numRequeues("ns/a"), 1);
    assert.deepEqual(script.inFlight(), []);
    clock.advance(5);
    await settle();
    assert.deepEqual(script.inFlight(), ["ns/a"], "retried after 5 ms");
    await script.finish("ns/a", new Error("boom"));
    clock.advance(9);
    await settle();
    assert.deepEqual(script.inFlight(), [], "the second retry waits 10 ms");
    clock.advance(1);
    await settle();
    await script.finish("ns/a", undefined);
    assert.equal(queue.numRequeues("ns/a"), 0);
    assert.equal(await total(registry, "error"), 2);
    assert.equal(await total(registry, "success"), 1);
    const errors = await registry.getSingleMetric("controller_runtime_reconcile_errors_total")?.get();
    assert.equal(errors?.values[0]?.value, 2);
  });

  it("requeues after the time a reconcile asks for", async function () {
    queue.add("ns/a");
    await settle();
    await script.finish("ns/a", { requeueAfterMs: 30_000 });
    assert.equal(await total(registry, "requeue_after"), 1);
    clock.advance(29_999);
    await settle();
    assert.deepEqual(script.inFlight(), []);
    clock.advance(1);
    await settle();
    assert.deepEqual(script.inFlight(), ["ns/a"]);
  });

  it("brings a failed key back when its timer is due, even when its backoff has grown longer", async function () {
    queue.add("ns/a");
    await settle();
    for (const backoff of [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560]) {
      await script.finish("ns/a", new Error("boom"));
      clock.advance(backoff);
      await settle();
    }
    await script.finish("ns/a", new FailedWithTimer(new Error("an optional object was refused"), 1000));
    assert.equal(queue.numRequeues("ns/a"), 11, "the failure counts towards the backoff");
    clock.advance(999);
    await settle();
    assert.deepEqual(script.inFlight(), []);
    clock.advance(1);
    await settle();
    assert.deepEqual(script.inFlight(), ["ns/a"], "after 1 s, not after the 5,120 ms backoff");
    await script.finish("ns/a", new FailedWithTimer(new Error("boom"), 60_000));
    clock.advance(10_240);
    await settle();
    assert.deepEqual(script.inFlight(), ["ns/a"], "a backoff shorter than the timer comes first");
    await script.finish("ns/a", new FailedWithTimer(new Error("boom"), 0));
    assert.deepEqual(script.inFlight(), [], "a timer already due is retried with backoff, not at once");
  });

  it("on stop, finishes the running reconcile and starts no other", async function () {
    queue.add("ns/a");
    await settle();
    queue.add("ns/b");
    queue.add("ns/c");
    queue.add("ns/d");
    await settle();
    assert.equal(script.inFlight().length, 3);
    stop.abort();
    await script.finish("ns/a", undefined);
    await script.finish("ns/b", undefined);
    await script.finish("ns/c", undefined);
    await controller.stopped();
    assert.deepEqual(script.calls, ["ns/a", "ns/b", "ns/c"], "ns/d is not started after the stop");
    const max = await registry.getSingleMetric("controller_runtime_max_concurrent_reconciles")?.get();
    assert.equal(max?.values[0]?.value, 3);
  });
});
