import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../../", import.meta.url));

/** The absolute path of a pinned upstream binary; hack/binaries.sh builds it on first use. */
export async function pinnedPath(name: string): Promise<string> {
  const { stdout } = await run(`${root}hack/binaries.sh`, ["path", name]);
  return stdout.trim();
}

/** Runs a pinned upstream binary from the repository root and resolves with its stdout. */
export async function runPinned(name: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(await pinnedPath(name), args, { cwd: root, maxBuffer: 16 << 20 });
  return stdout;
}

/** Runs the pinned helm; against the tier's control plane when a command needs a cluster. */
export function helm(...args: string[]): Promise<string> {
  return runPinned("helm", args);
}

/**
 * Runs promtool, which Debian's `prometheus` package installs (.ci/run does). Missing, it fails
 * the caller: a check that could not run must never pass.
 */
export async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("promtool", args, { cwd: root, maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error("promtool is not installed: apt-get install prometheus (see .ci/run)", { cause: error });
    throw error;
  }
}
