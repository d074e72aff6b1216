import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

/** The compiled service, exactly as the image runs it. */
const MAIN = fileURLToPath(new URL("../../src/main.js", import.meta.url));

export interface ServiceOptions {
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Reuse a data directory to test restarts. */
  dataDir?: string;
  /** Files (relative path -> text) for a fresh knowledge directory. */
  knowledge?: Record<string, string>;
  /** Resolve once listening instead of once /readyz answers 200. */
  skipReady?: boolean;
}

export interface RunningService {
  url: string;
  child: ChildProcess;
  dataDir: string;
  /** Every stdout and stderr line so far. */
  logs: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const created = new Set<string>();
// Services write into these until they exit, so they are removed when the test process ends.
process.once("exit", () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `assistant-${prefix}-`));
  created.add(dir);
  return dir;
}

function spawnService(options: ServiceOptions): { child: ChildProcess; dataDir: string; logs: string[]; exited: RunningService["exited"] } {
  const dataDir = options.dataDir ?? tempDir("data");
  const config = { ...(options.config ?? {}) };
  if (options.knowledge !== undefined) {
    const dir = tempDir("kb");
    for (const [path, text] of Object.entries(options.knowledge)) {
      mkdirSync(join(dir, path, ".."), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    config["knowledge"] = { ...(config["knowledge"] as Record<string, unknown> | undefined), dir };
  }
  const configPath = join(tempDir("config"), "assistant.yaml");
  writeFileSync(configPath, stringify(config));
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, ASSISTANT_CONFIG: configPath, LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream !== null) createInterface({ input: stream }).on("line", (line) => logs.push(line));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
    });
  });
  return { child, dataDir, logs, exited };
}

/** Runs a service that is expected to refuse to start; resolves with its exit code and output. */
export async function runFailingService(options: ServiceOptions): Promise<{ code: number | null; output: string }> {
  const { exited, logs } = spawnService(options);
  const { code } = await exited;
  // The readline interfaces deliver their last lines just after the exit event.
  await new Promise((resolve) => setImmediate(resolve));
  return { code, output: logs.join("\n") };
}

/** Starts the service on a free port and resolves once /readyz answers 200. */
export async function startService(options: ServiceOptions = {}): Promise<RunningService> {
  const { child, dataDir, logs, exited } = spawnService(options);
  const port = await new Promise<number>((resolve, reject) => {
    const stdout = child.stdout;
    if (stdout === null) throw new Error("no stdout");
    const lines = createInterface({ input: stdout });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === "listening" && typeof entry.port === "number") resolve(entry.port);
      } catch {
        // not a JSON log line
      }
    });
    void exited.then(({ code }) => {
      reject(new Error(`service exited with ${String(code)} before listening:\n${logs.join("\n")}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  while (options.skipReady !== true) {
    const response = await fetch(`${url}/readyz`);
    if (response.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url,
    child,
    dataDir,
    logs,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Resolves once a log line satisfying `match` has been written. */
export async function waitForLog(service: RunningService, match: (line: string) => boolean): Promise<string> {
  for (;;) {
    const line = service.logs.find(match);
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Reads an SSE body into events; comment lines (heartbeats) are reported as event ":". */
export async function* sseEvents(response: Response): AsyncGenerator<SseEvent> {
  if (response.body === null) return;
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes as Uint8Array, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      if (block.startsWith(":")) {
        yield { event: ":", data: block.slice(1).trim() };
        continue;
      }
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      yield { event, data: data.join("\n") };
    }
  }
}
