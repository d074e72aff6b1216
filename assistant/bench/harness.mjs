// What the benchmarks share: starting the service and its peers as child processes, reading what a
// process has used (CPU time, resident memory) from /proc, and the conversations the load holds.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const SERVICE_MAIN = fileURLToPath(new URL("../dist/src/main.js", import.meta.url));

/** A fresh directory holding `files` (path -> text). */
export function knowledgeDir(files) {
  const dir = mkdtempSync(join(tmpdir(), "assistant-bench-kb-"));
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/**
 * A memory cgroup of `limitMb` for a child to start in, as a pod's container does (Linux, root,
 * cgroup v1 or v2): Node sizes V8's heap from the limit it finds there. `procs` is the file a
 * process joins it through; `remove` deletes it once what ran in it has exited.
 */
export function memoryCgroup(limitMb) {
  const unified = existsSync("/sys/fs/cgroup/cgroup.controllers");
  // cgroup v2 hands the memory controller to a child only when the parent enables it for its children.
  if (unified) writeFileSync("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
  const dir = join(unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory", `assistant-bench-${process.pid}`);
  mkdirSync(dir);
  writeFileSync(join(dir, unified ? "memory.max" : "memory.limit_in_bytes"), String(limitMb * 2 ** 20));
  return { procs: join(dir, "cgroup.procs"), remove: () => rmdirSync(dir) };
}

/**
 * Starts `script` (in the cgroup whose `cgroupProcs` file is given, when one is) and resolves once it
 * logs `{"msg":"listening","port":N}`.
 */
export function start(script, env, nodeArgs = [], cgroupProcs = undefined) {
  const command = [process.execPath, ...nodeArgs, script];
  // The shell joins the cgroup and becomes Node: the limit is in place before V8 sizes its heap.
  const [file, args] = cgroupProcs === undefined ? [command[0], command.slice(1)] : ["/bin/sh", ["-c", 'echo $$ > "$0" && exec "$@"', cgroupProcs, ...command]];
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.msg !== "listening") return;
        // From here on the logs are only drained: parsing them would take CPU from the load generator.
        lines.close();
        child.stdout.resume();
        resolve({ child, url: `http://127.0.0.1:${entry.port}` });
      } catch {
        // plain output
      }
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** Ends the children with SIGTERM and waits until each has exited. */
export async function stopAll(children) {
  const exited = children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once("exit", resolve)) : undefined));
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(exited);
}

export async function untilReady(url) {
  for (;;) {
    const response = await fetch(`${url}/readyz`);
    if (response.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** CPU seconds a process has used so far (Linux); undefined elsewhere. */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime and stime, in clock ticks of 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Seconds the process's main thread has run, and has waited runnable for a core (Linux, from
 * schedstat); undefined elsewhere. On a shared machine the wait is time the machine, not the service, lost.
 */
export function schedSeconds(pid) {
  try {
    const [ran, waited] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ").map(Number);
    return { ran: ran / 1e9, waited: waited / 1e9 };
  } catch {
    return undefined;
  }
}

/** Resident memory now (VmRSS) and at its peak (VmHWM) in MB (Linux); undefined elsewhere. */
export function memoryMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1]);
    return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
  } catch {
    return undefined;
  }
}

/** Each conversation: a first question, then two follow-ups that load its history. */
export const TURNS_PER_CONVERSATION = 3;

/** Every connection holds conversations of TURNS_PER_CONVERSATION turns, asking the questions in turn. */
export function chatRequests(questions) {
  const json = { "content-type": "application/json" };
  return Array.from({ length: TURNS_PER_CONVERSATION }, (_, turn) => ({
    method: "POST",
    headers: json,
    setupRequest(request, context) {
      context.asked = ((context.asked ?? Math.floor(Math.random() * questions.length)) + 1) % questions.length;
      const message = questions[context.asked];
      return { ...request, body: JSON.stringify(turn === 0 ? { message } : { message, conversationId: context.conversationId }) };
    },
    onResponse(status, body, context) {
      if (turn === 0 && status === 200) context.conversationId = JSON.parse(body).conversationId;
    },
  }));
}

