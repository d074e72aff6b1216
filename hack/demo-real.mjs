// The demo on a real node (npm run demo -- --real [--check] [--keep]): hack/control-plane.sh up
// --real starts the control plane and one node in a network namespace of its own; the chart
// installs the operator image, whose two pods elect a leader; the sample becomes Ready with its pod
// in containerd behind real probes; and the assistant answers through its Service's ClusterIP,
// which only exists inside that namespace, so every command goes through `hack/control-plane.sh
// exec --`.
//
//   --check   runs the printed commands, checks each answer cites the sample, then stops the node
//   --keep    leaves everything running and prints how to reach it and how to stop it
// Without either it runs until Ctrl-C, then stops the node. A node that was already running is
// used as it is and left running.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { curlCommand, questions, runAndCheck, sampleFile, sampleTitles, step } from "./demo-answers.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const controlPlane = `${root}hack/control-plane.sh`;
const inNode = "hack/control-plane.sh exec -- ";
const namespace = "team-a";
const release = "ai-assistant-operator";
const chartNamespace = "aiassistant-system";

/** Runs a command inside the node's namespace, as `hack/control-plane.sh exec -- …` does for a user; returns its stdout. */
async function exec(...args) {
  const { stdout } = await promisify(execFile)(controlPlane, ["exec", "--", ...args], { cwd: root, maxBuffer: 16 << 20 });
  return stdout;
}

/** Shows a command as a user would type it, runs it, prints what it printed. */
async function show(...args) {
  console.log(`$ ${inNode}${args.join(" ")}`);
  console.log((await exec(...args)).trimEnd());
}

async function startNode() {
  const status = spawn(`${root}hack/real-node.sh`, ["status"], { stdio: "ignore" });
  const [running] = await once(status, "exit");
  if (running === 0) {
    step("a real node is running already: using it (it stays up afterwards)");
    return false;
  }
  step("hack/control-plane.sh up --real (the first run builds the node's binaries and images: many minutes)");
  const up = spawn(controlPlane, ["up", "--real"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const [code] = await once(up, "exit");
  if (code !== 0) throw new Error(`hack/control-plane.sh up --real exited with ${code}`);
  return true;
}

function stopNode() {
  step("hack/control-plane.sh down");
  return new Promise((resolve) => spawn(controlPlane, ["down"], { cwd: root, stdio: "inherit" }).once("exit", resolve));
}

export async function realDemo({ check, keep }) {
  let owned = false;
  try {
    owned = await startNode();
    await show("kubectl", "get", "nodes", "-o", "wide");

    step(`helm upgrade --install ${release} charts/ai-assistant-operator (the operator image, two pods that elect a leader)`);
    await exec("helm", "upgrade", "--install", release, "charts/ai-assistant-operator", "--namespace", chartNamespace, "--create-namespace", "--wait", "--timeout", "3m");
    await show("kubectl", "get", "pods", "-n", chartNamespace, "-o", "wide");
    await show("kubectl", "get", "lease", "-n", chartNamespace, `${release}-leader`, "-o", "custom-columns=LEASE:.metadata.name,LEADER:.spec.holderIdentity");

    step(`kubectl apply -f config/samples/aiassistant.yaml in ${namespace}, a namespace that enforces the restricted Pod Security Standard`);
    const manifest = await exec("kubectl", "create", "namespace", namespace, "--dry-run=client", "-o", "yaml");
    await exec("sh", "-c", `printf '%s' "$0" | kubectl apply -f - >/dev/null`, manifest);
    await exec("kubectl", "label", "--overwrite", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted");
    await show("kubectl", "apply", "-n", namespace, "-f", sampleFile);
    await show("kubectl", "wait", "-n", namespace, "--for=condition=Ready", "aia/demo", "--timeout=5m");
    await show("kubectl", "get", "-n", namespace, "aia,pods,services,pvc", "-o", "wide");
    await show("kubectl", "get", "pods", "-n", namespace, "-o", "custom-columns=POD:.metadata.name,READY:.status.containerStatuses[0].ready,CONTAINER:.status.containerStatuses[0].containerID");

    const clusterIP = (await exec("kubectl", "get", "service", "demo", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}")).trim();
    const commands = questions.map((message) => curlCommand(`http://${clusterIP}`, message, inNode));
    if (check) {
      step("--check: asking through the Service's ClusterIP, as the printed commands do");
      const titles = await sampleTitles();
      for (const command of commands) await runAndCheck(command, titles);
    } else {
      step(`the assistant answers on its Service's ClusterIP ${clusterIP}, inside the node's namespace; try:`);
      for (const command of commands) console.log(`\n  ${command}`);
    }
    if (keep) {
      step("left running");
      console.log(`  ${inNode}kubectl get pods -A          # anything, inside the node's namespace`);
      console.log(`  eval "$(hack/control-plane.sh env)"                   # its KUBECONFIG (usable inside the namespace only)`);
      console.log("  hack/control-plane.sh down                            # stop it and remove everything");
      return 0;
    }
    if (!check) {
      console.log("\nPress Ctrl-C to stop the node.");
      await new Promise((resolve) => process.once("SIGINT", resolve).once("SIGTERM", resolve));
    }
    if (owned) await stopNode();
    return 0;
  } catch (error) {
    console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`);
    if (error?.stderr) console.error(String(error.stderr).trim());
    if (owned && !keep) await stopNode();
    return 1;
  }
}
