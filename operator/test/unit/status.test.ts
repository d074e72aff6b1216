import assert from "node:assert/strict";
import type { V1Deployment } from "@kubernetes/client-node";
import { computeStatus, mergeConditions } from "../../src/reconcile/status.js";
import { planRollout } from "../../src/rollout/plan.js";
import { defaultedAIAssistant } from "../support/aiassistant.js";

const now = "2026-11-28T10:00:00.000Z";
const later = "2026-11-28T11:00:00.000Z";

function deployment(replicas: number, available: number, generation = 1, observedGeneration = 1): V1Deployment {
  return {
    metadata: { name: "demo-blue", generation },
    status: { observedGeneration, replicas, updatedReplicas: replicas, readyReplicas: available, availableReplicas: available },
  };
}

const condition = (status: ReturnType<typeof computeStatus>, type: string) => status.conditions?.find((c) => c.type === type);

describe("status", function () {
  it("keeps lastTransitionTime while a condition's status holds, and moves it on a flip", function () {
    const first = mergeConditions(undefined, [{ type: "Ready", status: "False", reason: "Deploying", message: "0/1" }], 1, now);
    const same = mergeConditions(first, [{ type: "Ready", status: "False", reason: "Deploying", message: "0/1" }], 2, later);
    assert.equal(same[0]?.lastTransitionTime, now);
    assert.equal(same[0]?.observedGeneration, 2);
    const flipped = mergeConditions(first, [{ type: "Ready", status: "True", reason: "Available", message: "1/1" }], 2, later);
    assert.equal(flipped[0]?.lastTransitionTime, later);
  });

  it("is Ready when the active Deployment is fully available", function () {
    const aia = defaultedAIAssistant();
    const status = computeStatus(aia, { plan: undefined, deployments: { blue: deployment(1, 1), green: undefined }, failure: undefined, now });
    assert.equal(condition(status, "Ready")?.status, "True");
    assert.equal(condition(status, "Progressing")?.status, "False");
    assert.equal(condition(status, "Degraded")?.status, "False");
    assert.equal(status.observedGeneration, 3);
    assert.equal(status.activeColor, "blue");
    assert.equal(status.previewColor, "green");
    assert.equal(status.selector, "app.kubernetes.io/name=ai-assistant,app.kubernetes.io/instance=demo,aiassistant.dev/color=blue");
    assert.equal(status.endpoint, "http://demo.team-a.svc");
  });

  it("is Progressing, not Ready, while pods come up or the Deployment controller lags", function () {
    const aia = defaultedAIAssistant();
    for (const d of [undefined, deployment(1, 0), deployment(1, 1, 2, 1)]) {
      const status = computeStatus(aia, { plan: undefined, deployments: { blue: d, green: undefined }, failure: undefined, now });
      assert.equal(condition(status, "Ready")?.status, "False");
      assert.equal(condition(status, "Progressing")?.status, "True");
    }
  });

  it("reports a failure as Degraded with its reason, and not Ready", function () {
    const aia = defaultedAIAssistant();
    const failure = { reason: "SecretNotFound", message: "spec.model.apiKeySecretRef: Secret llm not found" };
    const status = computeStatus(aia, { plan: undefined, deployments: { blue: deployment(1, 1), green: undefined }, failure, now });
    assert.deepEqual(
      [condition(status, "Degraded")?.status, condition(status, "Degraded")?.reason, condition(status, "Ready")?.reason],
      ["True", "SecretNotFound", "SecretNotFound"],
    );
  });

  it("turns a Deployment's ProgressDeadlineExceeded into Degraded", function () {
    const aia = defaultedAIAssistant();
    const stuck = deployment(1, 0);
    stuck.status = { availableReplicas: 0, replicas: 1, updatedReplicas: 1, observedGeneration: 1, conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] };
    const status = computeStatus(aia, { plan: undefined, deployments: { blue: stuck, green: undefined }, failure: undefined, now });
    assert.equal(condition(status, "Degraded")?.reason, "ProgressDeadlineExceeded");
  });

  it("stays Ready on the old color while a rollout is in flight or was aborted, and says so", function () {
    const aia = defaultedAIAssistant();
    const observed = { revision: "r0", replicas: 1, available: true, deadlineExceeded: false, pods: [] };
    const base = {
      revision: "r1",
      replicas: 1,
      settings: aia.spec.rollout,
      exclusive: false,
      requests: new Set<never>(),
      observed: { blue: observed, green: { ...observed, revision: undefined, available: false } },
      previewEndpoints: new Set<string>(),
      now: new Date(now),
    };
    const rolling = planRollout({ ...base, status: { activeColor: "blue", stableRevision: "r0" } });
    const during = computeStatus(aia, { plan: rolling, deployments: { blue: deployment(1, 1), green: undefined }, failure: undefined, now });
    assert.deepEqual(
      ["Ready", "Progressing", "Degraded", "PreviewReady", "Promoted"].map((type) => [type, condition(during, type)?.status, condition(during, type)?.reason]),
      [
        ["Ready", "True", "Available"],
        ["Progressing", "True", "RolloutInProgress"],
        ["Degraded", "False", "Reconciled"],
        ["PreviewReady", "False", "PreviewNotReady"],
        ["Promoted", "False", "RolloutInProgress"],
      ],
    );
    assert.equal(during.lastRollout?.phase, "Progressing");
    assert.equal(during.stableRevision, "r0");

    const aborted = planRollout({ ...base, status: { activeColor: "blue", stableRevision: "r0", ...(rolling.lastRollout ? { lastRollout: rolling.lastRollout } : {}) }, requests: new Set(["abort" as const]) });
    const after = computeStatus(aia, { plan: aborted, deployments: { blue: deployment(1, 1), green: undefined }, failure: undefined, now });
    assert.deepEqual(
      ["Ready", "Progressing", "Degraded", "Promoted"].map((type) => [type, condition(after, type)?.status, condition(after, type)?.reason]),
      [
        ["Ready", "True", "Available"],
        ["Progressing", "False", "Blocked"],
        ["Degraded", "True", "RolloutAborted"],
        ["Promoted", "False", "RolloutAborted"],
      ],
    );
  });

  it("is not Ready while a cutover has stopped the old pod and the new one is not up yet", function () {
    const aia = defaultedAIAssistant();
    const cutover = planRollout({
      revision: "r1",
      replicas: 1,
      settings: aia.spec.rollout,
      exclusive: true,
      requests: new Set<never>(),
      status: { activeColor: "blue", stableRevision: "r0" },
      observed: { blue: { revision: "r0", replicas: 0, available: true, deadlineExceeded: false, pods: [] }, green: { revision: undefined, replicas: 0, available: false, deadlineExceeded: false, pods: [] } },
      previewEndpoints: new Set<string>(),
      now: new Date(now),
    });
    assert.equal(cutover.lastRollout?.mode, "Cutover");
    const status = computeStatus(aia, { plan: cutover, deployments: { blue: deployment(0, 0), green: undefined }, failure: undefined, now });
    assert.deepEqual([condition(status, "Ready")?.status, condition(status, "Ready")?.reason], ["False", "Deploying"]);
  });
});
