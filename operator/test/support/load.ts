import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/** One chat request of the load: when it started and ended (ms since the load began), and how it went. */
export interface Sample {
  start: number;
  end: number;
  ok: boolean;
  /** The HTTP status, or the network error's code. */
  outcome: string;
}

export interface LoadReport {
  samples: Sample[];
  failures: Sample[];
  /** Milliseconds since the load began, when it began (wall clock), for windows taken from other clocks. */
  startedAt: number;
  /** The longest stretch with no successful answer, in ms: from one success's end to the next's. */
  longestGap: number;
}

/** The q-quantile (0..1) of durations in ms, nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/** Durations of the samples that started within [from, to) (ms on the load's clock). */
export function durationsWithin(report: LoadReport, from: number, to: number): number[] {
  return report.samples.filter((sample) => sample.start >= from && sample.start < to).map((sample) => sample.end - sample.start);
}

function longestGap(samples: Sample[], endedAt: number): number {
  let last = 0;
  let longest = 0;
  for (const sample of samples.filter((s) => s.ok).sort((a, b) => a.end - b.end)) {
    longest = Math.max(longest, sample.end - last);
    last = sample.end;
  }
  return Math.max(longest, endedAt - last);
}

/** How long a client waits after a failed request before its next: a client does not spin on a refused connection. */
const pauseAfterFailureMs = 50;

/**
 * Continuous chat traffic, as a client population that keeps its connections alive: `clients`
 * loops, each posting a chat message and, once answered, the next. A request counts as failed on a
 * non-2xx status or a network error; nothing is retried.
 */
export class ChatLoad {
  private readonly agent: Agent;
  private readonly samples: Sample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private startedAt = 0;

  constructor(
    private readonly url: string,
    private readonly options: { clients: number; message: string; timeoutMs?: number },
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  }

  private now(): number {
    return performance.now() - this.startedAt;
  }

  start(): this {
    this.running = true;
    this.startedAt = performance.now();
    this.loops = Array.from({ length: this.options.clients }, () => this.loop());
    return this;
  }

  /** Milliseconds on the load's clock: for marking when something happened. */
  get elapsed(): number {
    return this.now();
  }

  get count(): number {
    return this.samples.length;
  }

  /** How many requests that started after `ms` (on the load's clock) were answered. */
  answeredSince(ms: number): number {
    return this.samples.filter((sample) => sample.ok && sample.start >= ms).length;
  }

  async stop(): Promise<LoadReport> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
    const endedAt = this.now();
    return {
      samples: this.samples,
      failures: this.samples.filter((sample) => !sample.ok),
      startedAt: this.startedAt,
      longestGap: longestGap(this.samples, endedAt),
    };
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const start = this.now();
      const outcome = await this.post();
      const ok = /^2\d\d$/.test(outcome);
      this.samples.push({ start, end: this.now(), ok, outcome });
      if (!ok) await sleep(pauseAfterFailureMs);
    }
  }

  private post(): Promise<string> {
    const body = JSON.stringify({ message: this.options.message });
    return new Promise((resolve) => {
      const chat = request(
        this.url,
        { agent: this.agent, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: this.options.timeoutMs ?? 10_000 },
        (response) => {
          response.resume();
          response.on("end", () => {
            resolve(String(response.statusCode));
          });
          response.on("error", (error: NodeJS.ErrnoException) => {
            resolve(error.code ?? error.message);
          });
        },
      );
      chat.on("timeout", () => chat.destroy(Object.assign(new Error("timed out"), { code: "TIMEOUT" })));
      chat.on("error", (error: NodeJS.ErrnoException) => {
        resolve(error.code ?? error.message);
      });
      chat.end(body);
    });
  }
}
