import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CustomRule, MaskMode } from "../masking/mask.js";
import { UnreadableDocumentError, type DocumentLimits } from "./document-format.js";
import type { PreparedDocument, PrepareRequest } from "./prepare.js";

/** What the preparing process is started with. */
export interface PreparerSettings {
  /** Mask ingested text with the privacy rules. */
  mask?: { mode: MaskMode; rules: CustomRule[] };
  limits: DocumentLimits;
}

/** The settings as the preparing process reads them from its command line. */
export type ProcessSettings = PreparerSettings & { memoryMb: number };

export type PrepareMessage = { id: number; request: PrepareRequest };
export type PrepareReply = { id: number; document: PreparedDocument } | { id: number; error: string; unreadable: boolean };

/** The preparing process failed, crashed or took too long: another attempt may succeed. */
export class PreparationFailedError extends Error {
  override readonly name = "PreparationFailedError";
}

export function outOfMemory(memoryMb: number): string {
  return `parsing the document needs more memory than knowledge.parseMemoryMb allows (${memoryMb} MiB)`;
}

interface Pending {
  resolve: (document: PreparedDocument) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const ENTRY = fileURLToPath(new URL("./prepare-process.js", import.meta.url));
/** What V8 and the allocators say when the limits refuse them. */
export const OUT_OF_MEMORY = /out of memory|allocation failed|failed to allocate|cannot allocate|ENOMEM/i;

/**
 * Runs document preparation (parsing, masking, chunking, segmentation) in a child process, so a
 * large PDF never holds up chat requests and a decompression bomb cannot take the service's memory:
 * its JS heap is limited, and on Linux it caps its own address space once loaded (address-space.ts),
 * so its native memory (zlib, buffers) is bounded too. A process that crashes, runs out of memory or
 * exceeds the time limit is ended, its work fails, and the next request starts a new one.
 */
export class DocumentPreparer {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** After close, no process is started again: a request then fails at once. */
  private closed = false;

  constructor(
    private readonly settings: PreparerSettings,
    private readonly limits: { timeoutMs: number; maxMemoryMb: number },
  ) {}

  prepare(request: PrepareRequest): Promise<PreparedDocument> {
    if (this.closed) return Promise.reject(new PreparationFailedError("the service is stopping"));
    const child = (this.child ??= this.spawn());
    const id = (this.nextId += 1);
    return new Promise<PreparedDocument>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stop(child, new PreparationFailedError(`preparing the document took longer than knowledge.parseTimeoutMs (${this.limits.timeoutMs} ms)`));
      }, this.limits.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const message: PrepareMessage = { id, request };
      child.send(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (child !== undefined) {
      const closed = child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once("close", resolve)) : undefined;
      this.stop(child, new PreparationFailedError("the service is stopping"));
      await closed;
    }
  }

  private spawn(): ChildProcess {
    const { maxMemoryMb } = this.limits;
    const settings: ProcessSettings = { ...this.settings, memoryMb: maxMemoryMb };
    // V8's pool held at two threads: they exist before the address space is capped, whatever the cores.
    const child = spawn(process.execPath, [`--max-old-space-size=${maxMemoryMb}`, "--v8-pool-size=2", ENTRY, JSON.stringify(settings)], {
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      serialization: "advanced",
    });
    // An idle process must not keep the service alive: shutdown closes it, and tools may just exit.
    child.unref();
    child.channel?.unref();
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = `${stderr}${chunk.toString("utf8")}`.slice(-4096);
    });
    child.on("message", (reply: PrepareReply) => {
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      clearTimeout(pending.timer);
      if ("document" in reply) pending.resolve(reply.document);
      else pending.reject(reply.unreadable ? new UnreadableDocumentError(reply.error) : new PreparationFailedError(reply.error));
    });
    child.on("error", (error) => {
      this.stop(child, new PreparationFailedError(`the preparing process failed: ${error.message}`));
    });
    // "close" comes after the process's stderr has been read to its end.
    child.on("close", (code, signal) => {
      // V8 aborts when its heap is full, and the allocators when the address space is: the same document would again.
      const error = OUT_OF_MEMORY.test(stderr)
        ? new UnreadableDocumentError(outOfMemory(maxMemoryMb))
        : new PreparationFailedError(`the preparing process exited (${signal ?? `code ${String(code)}`}) ${stderr.trim().split("\n").at(-1)?.slice(0, 300) ?? ""}`.trim());
      this.stop(child, error);
    });
    return child;
  }

  private stop(child: ChildProcess, error: Error): void {
    if (this.child !== child) return;
    this.child = undefined;
    child.kill("SIGKILL");
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}
