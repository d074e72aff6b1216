import * as http from "node:http";
import * as https from "node:https";
import type * as k8s from "@kubernetes/client-node";

/*
 * LIST and WATCH over plain node:http(s), authenticated by the KubeConfig. client-node's Watch
 * drops lines it cannot parse and its informer goes quiet without noticing; here every failure
 * (HTTP status, parse error, silence) reaches the caller as an error it must handle.
 */

/** The server answered with an error status (or a watch ERROR event carrying one). */
export class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`${status}: ${message}`);
  }

  /** 410 Gone: the resourceVersion is older than the server keeps; only a new LIST can continue. */
  get gone(): boolean {
    return this.status === 410;
  }
}

/** The server sent something that is not the JSON it should be. Never ignored: the cache may be wrong. */
export class ParseError extends Error {}

/** Nothing arrived from the server for `idleTimeoutMs`: the connection is presumed dead (half-open). */
export class IdleTimeoutError extends Error {
  constructor(
    readonly afterResponse: boolean,
    idleTimeoutMs: number,
  ) {
    super(`no data from the server for ${idleTimeoutMs} ms${afterResponse ? "" : " (no response yet)"}`);
  }
}

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue: string | undefined;
}

export type WatchEvent<T> = { type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; object: T } | { type: "ERROR"; object: k8s.V1Status };

export interface ListOptions {
  limit: number;
  continue: string | undefined;
  signal: AbortSignal;
  idleTimeoutMs: number;
}

export interface WatchOptions {
  resourceVersion: string;
  /**
   * A watch-list stream: the server first sends every object as ADDED, then a BOOKMARK annotated
   * k8s.io/initial-events-end, then the changes (resourceVersionMatch NotOlderThan).
   */
  sendInitialEvents: boolean;
  timeoutSeconds: number;
  signal: AbortSignal;
  idleTimeoutMs: number;
  /** The server accepted the watch (HTTP 200); events may follow. */
  onOpen: () => void;
  onEvent: (event: WatchEvent<unknown>) => void;
}

/** client-go's ListerWatcher: how an informer reaches one collection. */
export interface ListerWatcher<T> {
  list(options: ListOptions): Promise<ListPage<T>>;
  /** Resolves when the server ends the watch; rejects on any error. */
  watch(options: WatchOptions): Promise<void>;
}

const watchEventTypes = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseWatchLine(line: string): WatchEvent<unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new ParseError(`watch event is not JSON (${error instanceof Error ? error.message : String(error)}): ${line.slice(0, 200)}`);
  }
  if (!isRecord(parsed) || typeof parsed["type"] !== "string" || !watchEventTypes.has(parsed["type"]) || !isRecord(parsed["object"])) {
    throw new ParseError(`not a watch event: ${line.slice(0, 200)}`);
  }
  return parsed as WatchEvent<unknown>;
}

function statusMessage(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed) && typeof parsed["message"] === "string") return parsed["message"];
  } catch {
    // Not a Status object (a proxy's HTML page, say): the raw text says more than nothing.
  }
  return body.slice(0, 500);
}

/** A list or watch of one collection (`listPath`) on the KubeConfig's current cluster. */
export class HttpListerWatcher<T> implements ListerWatcher<T> {
  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly listPath: string,
    private readonly labelSelector?: string,
  ) {}

  async list(options: ListOptions): Promise<ListPage<T>> {
    const query: Record<string, string> = { limit: String(options.limit) };
    if (options.continue !== undefined) query["continue"] = options.continue;
    let body = "";
    await this.request(query, options.signal, options.idleTimeoutMs, () => undefined, (chunk) => {
      body += chunk;
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new ParseError(`list of ${this.listPath} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!isRecord(parsed) || !Array.isArray(parsed["items"]) || !isRecord(parsed["metadata"]) || typeof parsed["metadata"]["resourceVersion"] !== "string") {
      throw new ParseError(`list of ${this.listPath} has no items or metadata.resourceVersion`);
    }
    const next = parsed["metadata"]["continue"];
    return {
      items: parsed["items"] as T[],
      resourceVersion: parsed["metadata"]["resourceVersion"],
      continue: typeof next === "string" && next !== "" ? next : undefined,
    };
  }

  async watch(options: WatchOptions): Promise<void> {
    const query: Record<string, string> = {
      watch: "true",
      allowWatchBookmarks: "true",
      timeoutSeconds: String(options.timeoutSeconds),
    };
    if (options.resourceVersion !== "") query["resourceVersion"] = options.resourceVersion;
    if (options.sendInitialEvents) Object.assign(query, { sendInitialEvents: "true", resourceVersionMatch: "NotOlderThan" });
    let pending = "";
    await this.request(query, options.signal, options.idleTimeoutMs, options.onOpen, (chunk) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== "") options.onEvent(parseWatchLine(line));
      }
    });
    if (pending.trim() !== "") options.onEvent(parseWatchLine(pending.trim()));
  }

  /**
   * One GET. Resolves when a 2xx body has been read to the end; rejects on a non-2xx status, a
   * network error, `signal`, a throwing `onData`, or `idleTimeoutMs` without any byte.
   */
  private async request(
    query: Record<string, string>,
    signal: AbortSignal,
    idleTimeoutMs: number,
    onOpen: () => void,
    onData: (chunk: string) => void,
  ): Promise<void> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    const url = new URL(cluster.server.replace(/\/+$/, "") + this.listPath);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    if (this.labelSelector !== undefined) url.searchParams.set("labelSelector", this.labelSelector);
    const options: https.RequestOptions = { method: "GET", headers: { accept: "application/json" } };
    // Adds the TLS material, the bearer token (re-read when it rotates) and an agent for the cluster.
    await this.kc.applyToHTTPSOptions(options);
    signal.throwIfAborted();
    const transport = url.protocol === "http:" ? http : https;

    await new Promise<void>((resolve, reject) => {
      let responded = false;
      let idleTimer: NodeJS.Timeout | undefined;
      const request = transport.request(url, options);
      const fail = (error: Error) => {
        clearTimeout(idleTimer);
        signal.removeEventListener("abort", onAbort);
        request.destroy();
        reject(error);
      };
      const armIdleTimer = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          fail(new IdleTimeoutError(responded, idleTimeoutMs));
        }, idleTimeoutMs);
      };
      const onAbort = () => {
        fail(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      armIdleTimer();
      request.on("error", fail);
      request.on("response", (response) => {
        responded = true;
        armIdleTimer();
        response.setEncoding("utf8");
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 299) {
          let body = "";
          response.on("data", (chunk: string) => {
            body += chunk;
          });
          response.on("end", () => {
            fail(new ApiStatusError(status, statusMessage(body)));
          });
          return;
        }
        try {
          onOpen();
        } catch (error) {
          fail(error as Error);
          return;
        }
        response.on("data", (chunk: string) => {
          armIdleTimer();
          try {
            onData(chunk);
          } catch (error) {
            fail(error as Error);
          }
        });
        response.on("error", fail);
        response.on("aborted", () => {
          fail(new Error("the server closed the connection mid-response"));
        });
        response.on("end", () => {
          clearTimeout(idleTimer);
          signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
      request.end();
    });
  }
}
