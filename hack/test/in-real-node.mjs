// Runs a command inside a real node of its own, for the real test tier and the real-node benchmark:
// refuses a node someone else started (its state is theirs), starts one (hack/control-plane.sh up
// --real), runs the command in its network namespace, and stops the node whatever happened.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const controlPlane = `${root}hack/control-plane.sh`;

/** spawnSync's result of `command` run inside a fresh real node, with `env` added. */
export function inRealNode(command, env = {}) {
  if (spawnSync(`${root}hack/real-node.sh`, ["status"]).status === 0) {
    console.error("a real node is running already: stop it (hack/control-plane.sh down) so that a fresh one starts");
    return { status: 1 };
  }
  try {
    const up = spawnSync(controlPlane, ["up", "--real"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
    if (up.status !== 0) return { status: up.status ?? 1 };
    const variables = Object.entries(env).map(([name, value]) => `${name}=${value}`);
    return spawnSync(controlPlane, ["exec", "--", "env", ...variables, ...command], { cwd: root, stdio: "inherit" });
  } finally {
    spawnSync(controlPlane, ["down"], { cwd: root, stdio: "inherit" });
  }
}
