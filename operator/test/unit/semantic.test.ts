import assert from "node:assert/strict";
import { parseQuantity } from "../../src/api/quantity.js";
import { isDerivative } from "../../src/reconcile/semantic.js";

describe("isDerivative (does the cluster already hold what we'd apply?)", function () {
  it("ignores fields the server added", function () {
    const desired = { spec: { ports: [{ port: 80 }] } };
    const observed = { metadata: { resourceVersion: "7" }, spec: { ports: [{ port: 80, protocol: "TCP" }], clusterIP: "10.0.0.9" } };
    assert.equal(isDerivative(desired, observed), true);
  });

  it("sees a changed scalar, a missing key and a different list length", function () {
    assert.equal(isDerivative({ a: { b: 1 } }, { a: { b: 2 } }), false);
    assert.equal(isDerivative({ a: { b: 1 } }, { a: {} }), false);
    assert.equal(isDerivative({ l: [1, 2] }, { l: [1] }), false);
    assert.equal(isDerivative({ l: [1] }, { l: [1, 2] }), false);
    assert.equal(isDerivative({ a: "x" }, { a: ["x"] }), false);
  });

  it("compares quantities under requests/limits by value", function () {
    assert.equal(isDerivative({ requests: { memory: "1024Mi", cpu: "0.5" } }, { requests: { memory: "1Gi", cpu: "500m" } }), true);
    assert.equal(isDerivative({ limits: { cpu: "1.1" } }, { limits: { cpu: "1100m" } }), true);
    assert.equal(isDerivative({ requests: { memory: "1Gi" } }, { requests: { memory: "1G" } }), false);
    assert.equal(isDerivative({ labels: { v: "1k" } }, { labels: { v: "1000" } }), false, "only quantity fields are normalised");
  });
});

describe("parseQuantity", function () {
  const cases: [string, number | undefined][] = [
    ["1Gi", 2 ** 30], ["500m", 0.5], ["2", 2], ["1.5k", 1500], ["1e3", 1000], ["12E", 12e18], ["+3Mi", 3 * 2 ** 20],
    ["", undefined], ["1Gb", undefined], ["abc", undefined], ["1 Gi", undefined],
  ];
  for (const [text, value] of cases) {
    it(`${JSON.stringify(text)} -> ${String(value)}`, function () {
      assert.equal(parseQuantity(text), value);
    });
  }
});
