import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const demo = fileURLToPath(new URL("../../../../hack/demo.mjs", import.meta.url));
const limitMs = 12 * 60_000;

describe("npm run demo", function () {
  this.timeout(limitMs + 60_000);

  it("installs the chart, brings the sample to Ready, and its printed curl command gets a grounded answer (--check)", async function () {
    // The demo starts and stops its own control plane, as it does for a user; on the time limit
    // it gets SIGTERM, which tears that down too.
    const child = spawn(process.execPath, [demo, "--check"], { stdio: ["ignore", "pipe", "pipe"], timeout: limitMs, killSignal: "SIGTERM" });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    try {
      assert.equal(code, 0, "the demo's exit code");
      assert.match(output, /==> helm install ai-assistant-operator charts\/ai-assistant-operator/);
      const commands = [...output.matchAll(/^\$ (curl -sS http:\/\/localhost:\d+\/api\/v1\/chat .*)$/gm)];
      assert.equal(commands.length, 2, "it ran both printed curl commands");
      assert.equal((output.match(/^grounded: cites \[\d+\] (VPN access|请假制度)/gm) ?? []).length, 2);
      assert.match(output, /IKEv2/);
      assert.match(output, /十五天/);
    } catch (error) {
      console.log(output.split("\n").slice(-60).join("\n"));
      throw error;
    }
  });
});
