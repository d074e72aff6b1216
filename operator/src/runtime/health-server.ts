import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

/** One named probe; `reason` says what is wrong when `ok` is false. */
export type Check = () => { ok: boolean; reason: string };

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port; `listen` returns it. */
  port: number;
  registry: Registry;
  logger: Logger;
}

/**
 * /healthz (liveness: the kubelet restarts us when it fails — a stale watch is fixed by a restart),
 * /readyz (readiness: caches synced) and /metrics. Failures answer in the style of the
 * kube-apiserver's own health endpoints: one `[+]name ok` / `[-]name failed: reason` line per check.
 */
export class HealthServer {
  private readonly healthChecks = new Map<string, Check>();
  private readonly readyChecks = new Map<string, Check>();
  private readonly server: Server;

  constructor(private readonly options: HealthServerOptions) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        options.logger.error({ err: error, path: request.url }, "health server request failed");
        if (!response.headersSent) response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        response.end("internal error\n");
      });
    });
  }

  addHealthCheck(name: string, check: Check): void {
    this.healthChecks.set(name, check);
  }

  addReadyCheck(name: string, check: Check): void {
    this.readyChecks.set(name, check);
  }

  async listen(): Promise<{ port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.options.logger.info({ host: this.options.host, port }, "serving /healthz, /readyz and /metrics");
    return { port };
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    // Scrapers hold keep-alive connections; don't let them delay the shutdown.
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => {
      this.server.close((error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
      return;
    }
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    switch (path) {
      case "/healthz":
        this.answerChecks(response, "healthz", this.healthChecks);
        return;
      case "/readyz":
        this.answerChecks(response, "readyz", this.readyChecks);
        return;
      case "/metrics": {
        const body = await this.options.registry.metrics();
        response.writeHead(200, { "content-type": this.options.registry.contentType }).end(body);
        return;
      }
      default:
        response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
    }
  }

  private answerChecks(response: ServerResponse, endpoint: string, checks: ReadonlyMap<string, Check>): void {
    const lines: string[] = [];
    let failed = false;
    for (const [name, check] of checks) {
      let result: { ok: boolean; reason: string };
      try {
        result = check();
      } catch (error) {
        result = { ok: false, reason: error instanceof Error ? error.message : String(error) };
      }
      failed ||= !result.ok;
      lines.push(result.ok ? `[+]${name} ok` : `[-]${name} failed: ${result.reason}`);
    }
    if (failed) {
      this.options.logger.warn({ endpoint, checks: lines.filter((line) => line.startsWith("[-]")) }, `${endpoint} failing`);
      lines.push(`${endpoint} check failed`);
    } else {
      lines.push(`${endpoint} check passed`);
    }
    response.writeHead(failed ? 500 : 200, { "content-type": "text/plain; charset=utf-8" }).end(`${lines.join("\n")}\n`);
  }
}
