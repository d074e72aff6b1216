import { Worker } from "node:worker_threads";
import type { CustomRule, MaskMode } from "../masking/mask.js";
import { UnreadableDocumentError } from "./parse.js";
import type { PreparedDocument, PrepareRequest } from "./prepare.js";

/** What the preparing thread is started with. */
export interface PreparerSettings {
  /** Mask ingested text with the privacy rules. */
  mask?: { mode: MaskMode; rules: CustomRule[] };
}

export type PrepareMessage = { id: number; request: PrepareRequest };
export type PrepareReply = { id: number; document: PreparedDocument } | { id: number; error: string; unreadable: boolean };

/** The preparing thread failed, crashed or took too long: another attempt may succeed. */
export class PreparationFailedError extends Error {
  override readonly name = "PreparationFailedError";
}

interface Pending {
  resolve: (document: PreparedDocument) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Runs document preparation (parsing, masking, chunking, segmentation) on a worker thread, so a
 * large PDF never holds up chat requests. A thread that crashes, runs out of its memory limit or
 * exceeds the time limit is ended, its work fails as retryable, and the next request starts a new one.
 */
export class DocumentPreparer {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** After close, no thread is started again: a request then fails at once. */
  private closed = false;

  constructor(
    private readonly settings: PreparerSettings,
    private readonly limits: { timeoutMs: number; maxMemoryMb: number },
  ) {}

  prepare(request: PrepareRequest): Promise<PreparedDocument> {
    if (this.closed) return Promise.reject(new PreparationFailedError("the service is stopping"));
    const worker = (this.worker ??= this.spawn());
    const id = (this.nextId += 1);
    return new Promise<PreparedDocument>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stop(worker, new PreparationFailedError(`preparing the document took longer than ${this.limits.timeoutMs} ms`));
      }, this.limits.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const message: PrepareMessage = { id, request };
      worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker !== undefined) {
      this.stop(worker, new PreparationFailedError("the service is stopping"));
      await worker.terminate();
    }
  }

  private spawn(): Worker {
    const worker = new Worker(new URL("./prepare-worker.js", import.meta.url), {
      workerData: this.settings,
      resourceLimits: { maxOldGenerationSizeMb: this.limits.maxMemoryMb },
    });
    // An idle thread must not keep the process alive: shutdown closes it, and tools may just exit.
    worker.unref();
    worker.on("message", (reply: PrepareReply) => {
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      clearTimeout(pending.timer);
      if ("document" in reply) pending.resolve(reply.document);
      else pending.reject(reply.unreadable ? new UnreadableDocumentError(reply.error) : new PreparationFailedError(reply.error));
    });
    worker.on("error", (error) => {
      const message = error instanceof Error ? error.message : String(error);
      this.stop(worker, new PreparationFailedError(`the preparing thread failed: ${message}`));
    });
    worker.on("exit", () => {
      this.stop(worker, new PreparationFailedError("the preparing thread exited"));
    });
    return worker;
  }

  private stop(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    void worker.terminate();
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}
