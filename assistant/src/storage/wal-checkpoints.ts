import { Worker } from "node:worker_threads";
import type { Database } from "better-sqlite3";

/** Pages of WAL at which the service's own connection still checkpoints, should the worker be gone. */
const BACKSTOP_PAGES = 10000;

export interface WalCheckpoints {
  /** Stops the worker and closes its connection; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * SQLite checkpoints the WAL from whichever connection commits the page that fills it, and with
 * synchronous = NORMAL that checkpoint is where the fsyncs happen: every second or so under load, a
 * chat's group commit held the event loop for 5-80 ms (every request in flight waited). A worker
 * thread with its own connection checkpoints every `intervalMs` instead; the service's connection
 * keeps a far higher threshold as a backstop, so the WAL stays bounded if the worker fails.
 */
export function checkpointInBackground(db: Database, file: string, intervalMs: number): WalCheckpoints {
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const worker = new Worker(new URL("./wal-checkpoint-worker.js", import.meta.url), { workerData: { file, intervalMs } });
  // It must not keep a stopping process alive; a failed worker leaves the backstop doing its work.
  worker.unref();
  worker.on("error", () => undefined);
  const exited = new Promise<void>((resolve) => {
    worker.once("exit", () => {
      resolve();
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        // Held while it closes: an unreferenced worker would let a process with nothing else left exit mid-close.
        worker.ref();
        worker.postMessage("stop");
        await exited;
      })();
      return stopping;
    },
  };
}
