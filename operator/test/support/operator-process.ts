import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { eventually } from "./kube.js";
import { freePort } from "./net.js";

const mainJs = fileURLToPath(new URL("../../src/main.js", import.meta.url));

/** The real operator (`node operator/dist/src/main.js`) as a child process of the test. */
export class OperatorProcess {
  readonly identity = `operator-${randomBytes(3).toString("hex")}`;
  output = "";
  private child: ChildProcess | undefined;
  port = 0;

  constructor(private readonly env: Record<string, string> = {}) {}

  async start(): Promise<this> {
    this.port = await freePort();
    this.child = spawn(process.execPath, [mainJs], {
      env: {
        ...process.env,
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: String(this.port),
        POD_NAME: this.identity,
        LEADER_ELECTION_NAMESPACE: "default",
        LOG_LEVEL: "debug",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (chunk: Buffer) => (this.output += chunk.toString());
    this.child.stdout?.on("data", collect);
    this.child.stderr?.on("data", collect);
    await eventually(`operator ${this.identity} to serve /healthz`, async () => ((await this.get("/healthz")).ok ? true : undefined));
    return this;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get(path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${path}`);
  }

  /** Graceful stop (SIGTERM), as Kubernetes does it; resolves with the exit code. */
  async stop(): Promise<number | null> {
    return this.signal("SIGTERM");
  }

  /** A crash: no cleanup, no lease release. */
  async kill(): Promise<number | null> {
    return this.signal("SIGKILL");
  }

  private async signal(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child || !this.running) return child?.exitCode ?? null;
    const exited = once(child, "exit");
    child.kill(signal);
    const [code] = (await exited) as [number | null];
    return code;
  }
}

/**
 * After a failed test, prints the operator's log at info and above from while the test ran: the
 * debug lines of other tests' objects, still being reconciled, would drown the ones that explain it.
 */
export function printOperatorLogIfFailed(test: Mocha.Test | undefined, operator: OperatorProcess | undefined): void {
  if (test?.state !== "failed" || !operator) return;
  const since = Date.now() - (test.duration ?? 0) - 1000;
  const lines = operator.output.split("\n").filter((line) => {
    try {
      const entry = JSON.parse(line) as { level?: number; time?: number };
      return (entry.level ?? 0) >= 30 && (entry.time ?? 0) >= since;
    } catch {
      return line.trim() !== "";
    }
  });
  console.log(lines.slice(-80).join("\n"));
}
