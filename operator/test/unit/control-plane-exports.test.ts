import assert from "node:assert/strict";
import { parseExports } from "../support/control-plane.js";

describe("parseExports (reading hack/control-plane.sh up)", function () {
  it("reads the export lines and ignores everything else", function () {
    const output = [
      "export KUBECONFIG=/tmp/aia-control-plane.abc/kubeconfig",
      "control-plane: ready (full)",
      "  export AIA_CONTROL_PLANE_DIR=/tmp/aia-control-plane.abc  ",
      "export lower=ignored",
      "",
    ].join("\n");
    assert.deepEqual(parseExports(output), {
      KUBECONFIG: "/tmp/aia-control-plane.abc/kubeconfig",
      AIA_CONTROL_PLANE_DIR: "/tmp/aia-control-plane.abc",
    });
  });

  it("returns nothing for output without export lines", function () {
    assert.deepEqual(parseExports("control-plane: start-up failed\n"), {});
  });
});
