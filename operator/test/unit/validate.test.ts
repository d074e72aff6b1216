import assert from "node:assert/strict";
import { validateAIAssistantSpec } from "../../src/api/validate.js";

describe("validateAIAssistantSpec (the CRD's schema at run time)", function () {
  it("fills the defaults the API server would", function () {
    const result = validateAIAssistantSpec({});
    assert.ok(result.ok);
    assert.equal(result.spec.replicas, 1);
    assert.equal(result.spec.model.provider, "extractive");
    assert.equal(result.spec.storage.mode, "embedded");
    assert.equal(result.spec.storage.size, "1Gi");
    assert.equal(result.spec.rollout.scaleDownDelaySeconds, 30);
    assert.equal(result.spec.auth.mode, "none");
    assert.match(result.spec.image, /ai-assistant:/);
  });

  it("does not change its input", function () {
    const spec = {};
    validateAIAssistantSpec(spec);
    assert.deepEqual(spec, {});
  });

  it("names the field of each problem", function () {
    const result = validateAIAssistantSpec({ replicas: -1, model: { provider: "gpt" }, autoscaling: {} });
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.ok(errors.some((e) => e.startsWith("spec.replicas:")), errors.join("\n"));
    assert.ok(errors.some((e) => e.startsWith("spec.model.provider:")), errors.join("\n"));
    assert.ok(errors.some((e) => e.startsWith("spec.autoscaling:") && e.includes("maxReplicas")), errors.join("\n"));
  });
});
