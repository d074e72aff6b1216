import assert from "node:assert/strict";
import type { Color } from "../../src/api/color.js";
import type { RolloutRequest } from "../../src/api/labels.js";
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { deploymentProgress, podFacts } from "../../src/rollout/observe.js";
import { cutoverPollMs, handoverWaitMs, planRollout, type ColorObservation, type PodFact, type RolloutInput, type RolloutPlan, type RolloutSettings } from "../../src/rollout/plan.js";

const t0 = Date.parse("2026-11-28T10:00:00.000Z");
const at = (seconds: number) => new Date(t0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

const settings: RolloutSettings = {
  strategy: "BlueGreen",
  autoPromotion: true,
  scaleDownDelaySeconds: 30,
  abortScaleDownDelaySeconds: 30,
  progressDeadlineSeconds: 600,
};

const pods = (color: Color, revision: string, count: number, ready = true, running = true): PodFact[] =>
  Array.from({ length: count }, (_, i) => ({ name: `demo-${color}-${revision}-${String(i)}`, revision, ready, terminating: false, running }));

/** A Deployment that runs `revision` with `replicas`, all available, pods listed. */
function running(color: Color, revision: string, replicas: number): ColorObservation {
  return { revision, replicas, available: true, deadlineExceeded: false, pods: pods(color, revision, replicas) };
}
const absent: ColorObservation = { revision: undefined, replicas: 0, available: false, deadlineExceeded: false, pods: [] };

function input(overrides: Partial<RolloutInput>): RolloutInput {
  return {
    revision: "r1",
    replicas: 3,
    settings,
    exclusive: false,
    status: { activeColor: "blue", stableRevision: "r0" },
    requests: new Set(),
    observed: { blue: running("blue", "r0", 3), green: absent },
    previewEndpoints: new Set(),
    now: at(0),
    ...overrides,
  };
}

/** The status the reconciler would write from a plan, so the next step starts from it. */
const statusOf = (plan: RolloutPlan): RolloutInput["status"] => ({
  activeColor: plan.active,
  stableRevision: plan.stableRevision,
  ...(plan.lastRollout ? { lastRollout: plan.lastRollout } : {}),
});
const reasons = (plan: RolloutPlan) => plan.events.map((e) => e.reason);
const requests = (...names: RolloutRequest[]) => new Set(names);

/** Green up with revision r1 and listed ready by the preview Service. */
function greenReady(replicas = 3, revision = "r1"): Pick<RolloutInput, "observed" | "previewEndpoints"> {
  const green = running("green", revision, replicas);
  return { observed: { blue: running("blue", "r0", 3), green }, previewEndpoints: new Set(green.pods?.map((p) => p.name)) };
}

describe("blue-green rollout plan", function () {
  it("deploys the first revision on blue with no rollout and no idle Deployment", function () {
    const plan = planRollout(input({ revision: "r0", status: undefined, observed: { blue: absent, green: absent } }));
    assert.equal(plan.active, "blue");
    assert.equal(plan.stableRevision, "r0");
    assert.equal(plan.lastRollout, undefined);
    assert.deepEqual(plan.colors, { blue: { replicas: 3, template: "desired" }, green: { replicas: 0, template: "keep" } });
    assert.deepEqual(plan.events, []);
    assert.equal(plan.requeueAfterMs, undefined);
  });

  it("changes nothing once the active color runs the spec's revision", function () {
    const plan = planRollout(input({ revision: "r0" }));
    assert.deepEqual(plan.colors, { blue: { replicas: 3, template: "desired" }, green: { replicas: 0, template: "keep" } });
    assert.deepEqual([plan.events, plan.consumed, plan.failure, plan.waitingFor], [[], [], undefined, undefined]);
  });

  it("starts a rollout on the idle color at the active color's count, keeping the active one intact", function () {
    const plan = planRollout(input({}));
    assert.deepEqual(plan.colors, { blue: { replicas: 3, template: "keep" }, green: { replicas: 3, template: "desired" } });
    assert.deepEqual(plan.lastRollout, { revision: "r1", fromRevision: "r0", mode: "BlueGreen", phase: "Progressing", startedAt: iso(0) });
    assert.deepEqual(reasons(plan), ["RolloutStarted"]);
    assert.equal(plan.active, "blue");
    assert.equal(plan.requeueAfterMs, 600_000, "looks again at the progress deadline");
    assert.match(plan.waitingFor ?? "", /green to have 3 available pods of revision r1/);
  });

  it("does not promote on pod readiness alone: each ready pod must be a ready endpoint of the preview Service", function () {
    const started = statusOf(planRollout(input({})));
    const ready = greenReady();
    const oneMissing = new Set([...ready.previewEndpoints].slice(1));
    const waiting = planRollout(input({ status: started, observed: ready.observed, previewEndpoints: oneMissing, now: at(5) }));
    assert.equal(waiting.active, "blue");
    assert.equal(waiting.previewReady, false);

    const oldPodsStillListed = planRollout(input({ status: started, observed: { ...ready.observed, green: running("green", "r0", 3) }, previewEndpoints: ready.previewEndpoints, now: at(5) }));
    assert.equal(oldPodsStillListed.active, "blue", "pods of the old revision don't count");

    const promoted = planRollout(input({ status: started, ...ready, now: at(6) }));
    assert.equal(promoted.active, "green");
    assert.equal(promoted.stableRevision, "r1");
    assert.deepEqual(promoted.colors, { green: { replicas: 3, template: "desired" }, blue: { replicas: 3, template: "keep" } });
    assert.deepEqual(reasons(promoted), ["PreviewReady", "Promoted"]);
    assert.equal(promoted.lastRollout?.phase, "Promoted");
    assert.equal(promoted.lastRollout?.promotedAt, iso(6));
    assert.equal(promoted.requeueAfterMs, 30_000, "looks again when the scale-down delay ends");
  });

  it("keeps the old color up for scaleDownDelaySeconds, then scales it to zero", function () {
    const promoted = statusOf(planRollout(input({ status: statusOf(planRollout(input({}))), ...greenReady(), now: at(6) })));
    const observed = { blue: running("blue", "r0", 3), green: running("green", "r1", 3) };
    const during = planRollout(input({ status: promoted, observed, now: at(20) }));
    assert.deepEqual(during.colors.blue, { replicas: 3, template: "keep" });
    assert.equal(during.requeueAfterMs, 16_000);
    const after = planRollout(input({ status: promoted, observed, now: at(36) }));
    assert.deepEqual(after.colors, { green: { replicas: 3, template: "desired" }, blue: { replicas: 0, template: "keep" } });
    assert.equal(after.lastRollout?.phase, "Completed");
    assert.equal(after.lastRollout?.finishedAt, iso(36));
    assert.deepEqual(reasons(after), ["ScaledDown"]);
  });

  it("asks for the preview Service only from a rollout's start until the idle color has no pods left", function () {
    assert.equal(planRollout(input({ revision: "r0", status: undefined, observed: { blue: absent, green: absent } })).preview, false, "first deploy");
    assert.equal(planRollout(input({ revision: "r0" })).preview, false, "steady");
    const started = planRollout(input({}));
    assert.equal(started.preview, true, "promotion waits for its EndpointSlices");
    const promoted = planRollout(input({ status: statusOf(started), ...greenReady(), now: at(6) }));
    const observed = { blue: running("blue", "r0", 3), green: running("green", "r1", 3) };
    assert.equal(promoted.preview, true, "the old color is still up for a rollback");
    assert.equal(planRollout(input({ status: statusOf(promoted), observed, now: at(36) })).preview, false, "completed: the old color scaled to zero");

    const aborted = planRollout(input({ status: statusOf(started), observed, requests: requests("abort"), now: at(3) }));
    assert.equal(aborted.preview, true, "the aborted color winds down behind it");
    assert.equal(planRollout(input({ status: statusOf(aborted), observed, now: at(40) })).preview, false);

    const cutover = planRollout(input({ exclusive: true, replicas: 1, observed: { blue: running("blue", "r0", 1), green: absent } }));
    assert.deepEqual([cutover.colors.green.replicas, cutover.preview], [1, true], "a cutover is in flight too");
  });

  it("pauses without auto-promotion until the promote annotation, which a not-yet-ready preview keeps for later", function () {
    const manual = { ...settings, autoPromotion: false };
    const started = statusOf(planRollout(input({ settings: manual })));
    const early = planRollout(input({ settings: manual, status: started, requests: requests("promote"), now: at(1) }));
    assert.deepEqual(early.consumed, [], "a promote made before the preview is ready waits for it");

    const paused = planRollout(input({ settings: manual, status: started, ...greenReady(), now: at(5) }));
    assert.equal(paused.lastRollout?.phase, "Paused");
    assert.deepEqual(reasons(paused), ["PreviewReady", "RolloutPaused"]);
    assert.equal(paused.active, "blue");
    assert.match(paused.waitingFor ?? "", /aiassistant\.dev\/promote/);

    const promoted = planRollout(input({ settings: manual, status: statusOf(paused), ...greenReady(), requests: requests("promote"), now: at(50) }));
    assert.equal(promoted.active, "green");
    assert.deepEqual(promoted.consumed, ["promote"]);
  });

  it("waits autoPromotionSeconds after the preview is ready", function () {
    const delayed = { ...settings, autoPromotionSeconds: 20 };
    const ready = planRollout(input({ settings: delayed, status: statusOf(planRollout(input({ settings: delayed }))), ...greenReady(), now: at(5) }));
    assert.equal(ready.active, "blue");
    assert.equal(ready.requeueAfterMs, 20_000);
    const due = planRollout(input({ settings: delayed, status: statusOf(ready), ...greenReady(), now: at(25) }));
    assert.equal(due.active, "green");
  });

  it("aborts on the abort annotation: traffic stays, Degraded, the preview winds down after abortScaleDownDelaySeconds", function () {
    const started = statusOf(planRollout(input({})));
    const observed = { blue: running("blue", "r0", 3), green: running("green", "r1", 3) };
    const aborted = planRollout(input({ status: started, observed, requests: requests("abort"), now: at(3) }));
    assert.equal(aborted.active, "blue");
    assert.deepEqual(aborted.consumed, ["abort"]);
    assert.equal(aborted.lastRollout?.phase, "Aborted");
    assert.equal(aborted.failure?.reason, "RolloutAborted");
    assert.deepEqual(aborted.colors, { blue: { replicas: 3, template: "keep" }, green: { replicas: 3, template: "keep" } });
    const later = planRollout(input({ status: statusOf(aborted), observed, now: at(40) }));
    assert.deepEqual(later.colors.green, { replicas: 0, template: "keep" });
    assert.equal(later.failure?.reason, "RolloutAborted", "stays Degraded until the spec changes");
    assert.deepEqual(reasons(later), [], "no new rollout of the aborted revision");

    const next = planRollout(input({ revision: "r2", status: statusOf(later), observed, now: at(50) }));
    assert.equal(next.lastRollout?.phase, "Progressing");
    assert.equal(next.lastRollout?.revision, "r2");
    assert.equal(next.failure, undefined);
  });

  it("aborts when the preview isn't ready by the progress deadline, or its Deployment reports one", function () {
    const started = statusOf(planRollout(input({})));
    const notReady = { blue: running("blue", "r0", 3), green: { ...running("green", "r1", 3), available: false, pods: pods("green", "r1", 3, false) } };
    const before = planRollout(input({ status: started, observed: notReady, now: at(599) }));
    assert.equal(before.lastRollout?.phase, "Progressing");
    assert.equal(before.requeueAfterMs, 1000);
    const after = planRollout(input({ status: started, observed: notReady, now: at(600) }));
    assert.equal(after.failure?.reason, "ProgressDeadlineExceeded");
    assert.equal(after.active, "blue");
    const reported = planRollout(input({ status: started, observed: { ...notReady, green: { ...notReady.green, deadlineExceeded: true } }, now: at(10) }));
    assert.equal(reported.failure?.reason, "ProgressDeadlineExceeded");
  });

  it("rolls out an aborted revision again once the spec went back to the running one in between", function () {
    const started = statusOf(planRollout(input({})));
    const notReady = { blue: running("blue", "r0", 3), green: { ...running("green", "r1", 3), available: false, pods: pods("green", "r1", 3, false) } };
    const aborted = statusOf(planRollout(input({ status: started, observed: notReady, now: at(600) })));
    assert.equal(planRollout(input({ status: aborted, observed: notReady, now: at(601) })).lastRollout?.phase, "Aborted", "the same spec stays aborted");
    const reverted = statusOf(planRollout(input({ revision: "r0", status: aborted, observed: notReady, now: at(700) })));
    assert.equal(reverted?.lastRollout?.reason, "Superseded");
    const again = planRollout(input({ status: reverted, observed: notReady, now: at(800) }));
    assert.deepEqual([again.lastRollout?.phase, again.lastRollout?.revision, again.lastRollout?.startedAt], ["Progressing", "r1", iso(800)]);
    assert.equal(again.failure, undefined);
  });

  it("expires an unpromoted preview after previewTTLSeconds", function () {
    const manual = { ...settings, autoPromotion: false, previewTTLSeconds: 60 };
    const paused = planRollout(input({ settings: manual, status: statusOf(planRollout(input({ settings: manual }))), ...greenReady(), now: at(5) }));
    assert.equal(paused.requeueAfterMs, 60_000);
    const expired = planRollout(input({ settings: manual, status: statusOf(paused), ...greenReady(), now: at(65) }));
    assert.equal(expired.failure?.reason, "PreviewExpired");
    assert.equal(expired.active, "blue");
  });

  it("rolls back at once within the scale-down delay, and refuses when the old color is gone", function () {
    const promoted = statusOf(planRollout(input({ status: statusOf(planRollout(input({}))), ...greenReady(), now: at(6) })));
    const observed = { blue: running("blue", "r0", 3), green: running("green", "r1", 3) };
    const back = planRollout(input({ status: promoted, observed, requests: requests("rollback"), now: at(10) }));
    assert.equal(back.active, "blue");
    assert.equal(back.stableRevision, "r0");
    assert.deepEqual(back.colors.blue, { replicas: 3, template: "keep" });
    assert.equal(back.failure?.reason, "RolledBack");
    assert.deepEqual(back.consumed, ["rollback"]);

    const scaledDown = { blue: { ...running("blue", "r0", 0) }, green: running("green", "r1", 3) };
    const late = planRollout(input({ status: promoted, observed: scaledDown, requests: requests("rollback"), now: at(40) }));
    assert.equal(late.active, "green");
    assert.deepEqual(reasons(late), ["RollbackUnavailable"]);
    assert.deepEqual(late.consumed, ["rollback"]);
  });

  it("lets a new spec change supersede an unfinished rollout on the same preview color", function () {
    const started = statusOf(planRollout(input({})));
    const next = planRollout(input({ revision: "r2", status: started, now: at(4) }));
    assert.deepEqual(reasons(next), ["RolloutSuperseded", "RolloutStarted"]);
    assert.deepEqual(next.colors, { blue: { replicas: 3, template: "keep" }, green: { replicas: 3, template: "desired" } });
    assert.equal(next.lastRollout?.revision, "r2");
    assert.equal(next.lastRollout?.fromRevision, "r0");

    const reverted = planRollout(input({ revision: "r0", status: started, now: at(4) }));
    assert.equal(reverted.lastRollout?.reason, "Superseded");
    assert.equal(reverted.failure, undefined, "going back to the running revision is not a failure");
    const again = planRollout(input({ revision: "r1", status: statusOf(reverted), now: at(8) }));
    assert.equal(again.lastRollout?.phase, "Progressing", "a superseded revision can be rolled out again");
  });

  it("sizes the preview from the live count an HPA sets, and never shrinks the active color before the switch", function () {
    const started = statusOf(planRollout(input({})));
    for (const replicas of [3, 5, 8]) {
      const plan = planRollout(input({ replicas, status: started, now: at(2) }));
      assert.deepEqual(plan.colors, { blue: { replicas, template: "keep" }, green: { replicas, template: "desired" } });
    }
  });

  it("runs previewReplicaCount until promotion, then scales the preview to the full count before switching", function () {
    const small = { ...settings, autoPromotion: false, previewReplicaCount: 1 };
    const started = statusOf(planRollout(input({ settings: small })));
    assert.deepEqual(planRollout(input({ settings: small, status: started })).colors.green, { replicas: 1, template: "desired" });
    const paused = planRollout(input({ settings: small, status: started, ...greenReady(1), now: at(5) }));
    assert.equal(paused.lastRollout?.phase, "Paused");
    const promoting = planRollout(input({ settings: small, status: statusOf(paused), ...greenReady(1), requests: requests("promote"), now: at(9) }));
    assert.equal(promoting.active, "blue", "not before the preview has the full count");
    assert.deepEqual(promoting.colors.green, { replicas: 3, template: "desired" });
    assert.deepEqual(promoting.consumed, []);
    const promoted = planRollout(input({ settings: small, status: statusOf(promoting), ...greenReady(3), requests: requests("promote"), now: at(12) }));
    assert.equal(promoted.active, "green");
  });

  it("promotes a paused preview long after the progress deadline: the deadline is for becoming ready", function () {
    const small = { ...settings, autoPromotion: false, previewReplicaCount: 1 };
    const started = statusOf(planRollout(input({ settings: small })));
    const paused = planRollout(input({ settings: small, status: started, ...greenReady(1), now: at(5) }));
    assert.equal(paused.lastRollout?.phase, "Paused");
    // Promoted an hour later: the preview grows to the full count, which takes a moment.
    const growing = planRollout(input({ settings: small, status: statusOf(paused), ...greenReady(1), requests: requests("promote"), now: at(3600) }));
    assert.equal(growing.failure, undefined);
    assert.deepEqual(growing.colors.green, { replicas: 3, template: "desired" });
    const promoted = planRollout(input({ settings: small, status: statusOf(growing), ...greenReady(3), requests: requests("promote"), now: at(3610) }));
    assert.equal(promoted.active, "green");
    // A Deployment that stops progressing while growing still aborts the rollout.
    const stalled = { ...greenReady(1).observed, green: { ...running("green", "r1", 3), available: false, deadlineExceeded: true } };
    const aborted = planRollout(input({ settings: small, status: statusOf(growing), observed: stalled, requests: requests("promote"), now: at(4300) }));
    assert.equal(aborted.failure?.reason, "ProgressDeadlineExceeded");
  });

  it("consumes a request with nothing to act on, so it can't fire on a later rollout", function () {
    const plan = planRollout(input({ revision: "r0", requests: requests("promote", "abort") }));
    assert.deepEqual(plan.consumed.sort(), ["abort", "promote"]);
    assert.equal(plan.active, "blue");
  });

  it("is a pure function of its input: replanning from its own status changes nothing", function () {
    const first = planRollout(input({ ...greenReady(), status: statusOf(planRollout(input({}))), now: at(6) }));
    const again = planRollout(input({ ...greenReady(), status: statusOf(first), now: at(6) }));
    assert.deepEqual(again.colors, first.colors);
    assert.deepEqual([again.active, again.stableRevision, again.lastRollout], [first.active, first.stableRevision, first.lastRollout]);
    assert.deepEqual(again.events, [], "no repeated events");
  });

  describe("cutover (embedded storage, one pod per volume)", function () {
    const one = (overrides: Partial<RolloutInput>) =>
      input({ exclusive: true, replicas: 1, observed: { blue: running("blue", "r0", 1), green: absent }, ...overrides });

    it("starts the new pod beside the old one, which serves until the new container runs, then stops it and switches at once", function () {
      const started = planRollout(one({}));
      assert.equal(started.lastRollout?.mode, "Cutover");
      assert.deepEqual(started.colors, { blue: { replicas: 1, template: "keep" }, green: { replicas: 1, template: "desired" } });
      assert.deepEqual([started.active, started.stable], ["blue", "blue"], "the old pod serves meanwhile");
      assert.match(started.waitingFor ?? "", /green pod to start before the blue pod stops/);
      assert.equal(started.requeueAfterMs, cutoverPollMs);

      const creating = { ...running("green", "r1", 1), available: false, pods: pods("green", "r1", 1, false, false) };
      const held = planRollout(one({ status: statusOf(started), observed: { blue: running("blue", "r0", 1), green: creating }, now: at(1) }));
      assert.deepEqual([held.colors.blue.replicas, held.stable], [1, "blue"], "a pod whose container has not started yet holds nothing up");

      const waiting = { ...running("green", "r1", 1), available: false, pods: pods("green", "r1", 1, false, true) };
      const handover = planRollout(one({ status: statusOf(held), observed: { blue: running("blue", "r0", 1), green: waiting }, now: at(2) }));
      assert.deepEqual(handover.colors, { blue: { replicas: 0, template: "keep" }, green: { replicas: 1, template: "desired" } });
      assert.equal(handover.stable, "green", "the stable Service leaves the stopping pod at once");

      const terminating = { ...running("blue", "r0", 0), pods: [{ name: "demo-blue-x", revision: "r0", ready: false, terminating: true, running: true }] };
      const draining = planRollout(one({ status: statusOf(handover), observed: { blue: terminating, green: waiting }, now: at(3) }));
      assert.deepEqual([draining.colors, draining.stable], [handover.colors, "green"], "nothing to change while the old pod drains");

      const green = running("green", "r1", 1);
      const done = planRollout(
        one({ status: statusOf(draining), observed: { blue: running("blue", "r0", 0), green }, previewEndpoints: new Set(green.pods?.map((p) => p.name)), now: at(5) }),
      );
      assert.deepEqual([done.active, done.stable], ["green", "green"]);
      assert.equal(done.lastRollout?.phase, "Completed");
      assert.deepEqual(done.colors, { green: { replicas: 1, template: "desired" }, blue: { replicas: 0, template: "keep" } });
    });

    it("starts one pod whatever previewReplicaCount says: the volume takes one", function () {
      const drained = planRollout(one({ settings: { ...settings, previewReplicaCount: 2 }, observed: { blue: running("blue", "r0", 0), green: absent } }));
      assert.deepEqual(drained.colors.green, { replicas: 1, template: "desired" });
    });

    it("keeps a steady pod running when its pods were not listed", function () {
      const plan = planRollout(one({ revision: "r0", observed: { blue: { ...running("blue", "r0", 1), pods: undefined }, green: { ...absent, pods: undefined } } }));
      assert.deepEqual(plan.colors, { blue: { replicas: 1, template: "desired" }, green: { replicas: 0, template: "keep" } });
      assert.equal(plan.waitingFor, undefined);
    });

    it("stops the old pod anyway when the new one cannot start beside it (a volume attached elsewhere, a full node)", function () {
      const started = statusOf(planRollout(one({})));
      const pending = { ...running("green", "r1", 1), available: false, pods: pods("green", "r1", 1, false, false) };
      const observed = { blue: running("blue", "r0", 1), green: pending };
      const before = planRollout(one({ status: started, observed, now: at(handoverWaitMs / 1000 - 1) }));
      assert.deepEqual([before.colors.blue.replicas, before.stable], [1, "blue"]);
      assert.equal(before.requeueAfterMs, cutoverPollMs);
      const after = planRollout(one({ status: started, observed, now: at(handoverWaitMs / 1000) }));
      assert.deepEqual([after.colors.blue.replicas, after.colors.green.replicas, after.stable], [0, 1, "green"]);
    });

    it("keeps the old pod serving when the new one never starts, and ends there", function () {
      const started = statusOf(planRollout(one({})));
      const stuck = { ...running("green", "r1", 1), available: false, pods: pods("green", "r1", 1, false, false) };
      const aborted = planRollout(one({ status: started, observed: { blue: running("blue", "r0", 1), green: stuck }, now: at(700) }));
      assert.equal(aborted.failure?.reason, "ProgressDeadlineExceeded");
      assert.deepEqual(aborted.colors, { blue: { replicas: 1, template: "keep" }, green: { replicas: 0, template: "keep" } });
      assert.equal(aborted.stable, "blue");
    });

    it("brings the old pod back when the new one fails after taking over, and sends traffic back to it once it runs", function () {
      const started = statusOf(planRollout(one({})));
      const stuck = { ...running("green", "r1", 1), available: false, pods: pods("green", "r1", 1, false, true) };
      const aborted = planRollout(one({ status: started, observed: { blue: running("blue", "r0", 0), green: stuck }, now: at(700) }));
      assert.equal(aborted.failure?.reason, "ProgressDeadlineExceeded");
      assert.deepEqual(aborted.colors, { blue: { replicas: 1, template: "keep" }, green: { replicas: 1, template: "keep" } }, "the failed pod has the volume until blue's runs");
      assert.equal(aborted.stable, "green");
      const blueBack = { ...running("blue", "r0", 1), pods: pods("blue", "r0", 1, false, true) };
      const back = planRollout(one({ status: statusOf(aborted), observed: { blue: blueBack, green: stuck }, now: at(701) }));
      assert.deepEqual(back.colors, { blue: { replicas: 1, template: "keep" }, green: { replicas: 0, template: "keep" } });
      assert.equal(back.stable, "blue");
    });
  });
});

describe("observing Deployments and pods for the rollout plan", function () {
  const deployment = (generation: number, observedGeneration: number): V1Deployment => ({
    metadata: { generation },
    spec: { replicas: 1, selector: {}, template: {} },
    status: { observedGeneration, replicas: 1, updatedReplicas: 0, availableReplicas: 0, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] },
  });

  it("takes a deadline condition only from a controller that has seen the newest spec", function () {
    assert.equal(deploymentProgress(deployment(3, 3), 1).deadlineExceeded, true);
    assert.equal(deploymentProgress(deployment(4, 3), 1).deadlineExceeded, false, "the condition is about the previous revision");
  });

  it("leaves out pods that ended: an evicted pod neither serves nor holds the volume", function () {
    const pod = (name: string, phase: string): V1Pod => ({ metadata: { name, labels: {} }, status: { phase, conditions: [{ type: "Ready", status: "False" }] } });
    assert.deepEqual(
      podFacts([pod("evicted", "Failed"), pod("done", "Succeeded"), pod("starting", "Pending"), pod("up", "Running")]).map((fact) => fact.name),
      ["starting", "up"],
    );
  });
});
