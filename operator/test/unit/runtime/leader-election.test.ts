import assert from "node:assert/strict";
import type * as k8s from "@kubernetes/client-node";
import { claimRecord, heldByAnother, recordOf, releaseRecord, type LeaseRecord } from "../../../src/runtime/leader-election.js";

const held: LeaseRecord = { holderIdentity: "other", leaseDurationSeconds: 15, acquireTime: 1_000, renewTime: 5_000, leaseTransitions: 3 };

describe("leader election decisions", function () {
  it("respect another holder's lease until its duration has passed since we saw the record change", function () {
    const observedAt = 100_000;
    assert.equal(heldByAnother(held, observedAt, observedAt + 14_999, "me"), true);
    assert.equal(heldByAnother(held, observedAt, observedAt + 15_000, "me"), false, "expired by our own clock");
    // The holder's renewTime is on its clock, far in the past on ours: it must not matter.
    assert.equal(heldByAnother({ ...held, renewTime: 0 }, observedAt, observedAt + 1, "me"), true);
  });

  it("treat a released lease and our own lease as free", function () {
    assert.equal(heldByAnother({ ...held, holderIdentity: "" }, 100_000, 100_001, "me"), false);
    assert.equal(heldByAnother({ ...held, holderIdentity: "me" }, 100_000, 100_001, "me"), false);
  });

  it("count a transition when the holder changes, keep acquireTime when renewing", function () {
    const taken = claimRecord(held, "me", 200_000, 15_000);
    assert.deepEqual(taken, { holderIdentity: "me", leaseDurationSeconds: 15, acquireTime: 200_000, renewTime: 200_000, leaseTransitions: 4 });
    const renewed = claimRecord(taken, "me", 202_000, 15_000);
    assert.deepEqual(renewed, { ...taken, renewTime: 202_000 });
    assert.equal(claimRecord(undefined, "me", 1, 15_000).leaseTransitions, 0, "a new lease starts at 0");
    assert.equal(claimRecord(undefined, "me", 1, 1_500).leaseDurationSeconds, 2, "sub-second durations round up, never to 0");
  });

  it("release as client-go does: no holder, a 1 s lease, transitions kept", function () {
    const released = releaseRecord({ ...held, holderIdentity: "me" }, 300_000);
    assert.deepEqual(released, { holderIdentity: "", leaseDurationSeconds: 1, acquireTime: 300_000, renewTime: 300_000, leaseTransitions: 3 });
    assert.equal(heldByAnother(released, 300_000, 300_000, "other"), false);
  });
});

describe("reading a Lease", function () {
  it("takes MicroTime fields as client-node hands them over: RFC 3339 strings with microseconds", function () {
    const lease = {
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "2026-11-28T12:00:00.000000Z", renewTime: "2026-11-28T12:00:05.250000Z" },
    } as unknown as k8s.V1Lease;
    assert.deepEqual(recordOf(lease), {
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: Date.UTC(2026, 10, 28, 12, 0, 0),
      renewTime: Date.UTC(2026, 10, 28, 12, 0, 5, 250),
      leaseTransitions: 0,
    });
    assert.deepEqual(recordOf({}), { holderIdentity: "", leaseDurationSeconds: 0, acquireTime: 0, renewTime: 0, leaseTransitions: 0 });
  });
});
