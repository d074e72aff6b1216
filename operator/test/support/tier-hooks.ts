import { binaryVersions, startControlPlane, stopControlPlane, type ControlPlane } from "./control-plane.js";

const startTimeoutMs = 30 * 60_000;

/**
 * Mocha root hooks for a tier that needs a real control plane: start it before the first test,
 * export KUBECONFIG for the tests, and always stop it — after the last test, on failure, and on
 * Ctrl-C or SIGTERM, so no process or folder outlives the run.
 */
export function controlPlaneHooks(options: { full: boolean; binaries: readonly string[] }) {
  let plane: ControlPlane | undefined;
  const stop = () => {
    const running = plane;
    plane = undefined;
    if (running) stopControlPlane(running);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    stop();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  return {
    async beforeAll(this: Mocha.Context) {
      this.timeout(startTimeoutMs);
      process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
      for (const line of await binaryVersions(options.binaries)) console.log(`    ${line}`);
      plane = await startControlPlane({ full: options.full });
      process.env["KUBECONFIG"] = plane.kubeconfig;
      process.env["AIA_CONTROL_PLANE_DIR"] = plane.dir;
    },
    afterAll(this: Mocha.Context) {
      this.timeout(60_000);
      stop();
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    },
  };
}
