import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const hackDir = fileURLToPath(new URL("../../../../hack/", import.meta.url));
const controlPlaneScript = `${hackDir}control-plane.sh`;
const binariesScript = `${hackDir}binaries.sh`;

export interface ControlPlane {
  kubeconfig: string;
  dir: string;
}

/** Reads the `export NAME=value` lines that `hack/control-plane.sh up` prints. */
export function parseExports(output: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of output.split("\n")) {
    const match = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) env[match[1]] = match[2];
  }
  return env;
}

export async function startControlPlane(options: { full: boolean }): Promise<ControlPlane> {
  const args = ["up", ...(options.full ? ["--full"] : [])];
  const { stdout } = await run(controlPlaneScript, args, { maxBuffer: 1 << 20 });
  const env = parseExports(stdout);
  const kubeconfig = env["KUBECONFIG"];
  const dir = env["AIA_CONTROL_PLANE_DIR"];
  if (kubeconfig === undefined || dir === undefined) {
    throw new Error(`control-plane.sh up printed no KUBECONFIG/AIA_CONTROL_PLANE_DIR:\n${stdout}`);
  }
  return { kubeconfig, dir };
}

/** Synchronous, so it can also run from a signal handler just before the process exits. */
export function stopControlPlane(plane: ControlPlane): void {
  execFileSync(controlPlaneScript, ["down", plane.dir], { stdio: "inherit" });
}

/** The `--version` line of each binary the tier runs, for the test log. */
export async function binaryVersions(names: readonly string[]): Promise<string[]> {
  return Promise.all(
    names.map(async (name) => {
      const { stdout: path } = await run(binariesScript, ["path", name]);
      const versionArgs = name === "kubectl" ? ["version", "--client"] : name === "helm" ? ["version", "--short"] : ["--version"];
      const { stdout } = await run(path.trim(), versionArgs);
      return `${name}: ${stdout.split("\n")[0]?.trim() ?? ""}`;
    }),
  );
}
