import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { chartDir, chartNamespace, releaseName } from "./chart.js";
import { kubectl } from "./crd.js";
import { helm } from "./tools.js";

const run = promisify(execFile);

/**
 * Mocha root hooks of the real tier, which runs inside the real node's network namespace
 * (hack/test/run-tiers.mjs starts the node and stops it): print what runs the pods, and install
 * the operator with its Helm chart, as a cluster admin would, before the first test.
 */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(5 * 60_000);
    if (!process.env["AIA_CONTROL_PLANE_DIR"]) throw new Error("the real tier runs inside the real node: node hack/test/run-tiers.mjs real");
    const node = await kubectl("get", "nodes", "-o", "jsonpath={.items[0].status.nodeInfo.kubeletVersion} {.items[0].status.nodeInfo.containerRuntimeVersion}");
    console.log(`    node: kubelet ${node}, ${(await run("runc", ["--version"])).stdout.split("\n")[0] ?? ""}`);
    await helm("upgrade", "--install", releaseName, chartDir, "--namespace", chartNamespace, "--create-namespace", "--wait", "--timeout", "3m");
  },
};
