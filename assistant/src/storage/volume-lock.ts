import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/** The file whose lock says which process owns the embedded store's data directory. */
const LOCK_FILE = "assistant.lock";

/** How often a waiting start tries the lock again: short, since every moment is one nothing serves. */
const RETRY_MS = 50;

export interface VolumeLockOptions {
  /** How long to wait for the process that holds the directory to stop, before giving up. */
  waitMs: number;
  /** Told once when the lock is held elsewhere, then every few seconds while it still is. */
  onWaiting: (waitedMs: number) => void;
}

/** The directory's owner; the lock goes with the process, however it ends. */
export interface VolumeLock {
  release(): void;
}

class VolumeLockedError extends Error {
  constructor(dataDir: string, waitedMs: number) {
    super(`another process has held the data directory ${dataDir} for ${String(Math.round(waitedMs / 1000))} s: embedded storage is one process's (its lock: ${LOCK_FILE})`);
  }
}

/**
 * Makes this process the only one that opens the embedded store in `dataDir`. A rollout starts the
 * new pod beside the old one on the same volume, so that the new pod has started its container and
 * loaded its code by the time the old one stops: it waits here, and opens the store the moment the
 * old process exits. An exclusive transaction on a file of its own is a POSIX lock that the kernel
 * drops when the process ends, even killed, so a crash never leaves the directory locked.
 */
export async function lockDataVolume(dataDir: string, options: VolumeLockOptions): Promise<VolumeLock> {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  const started = Date.now();
  let toldAt: number | undefined;
  for (;;) {
    try {
      db.exec("BEGIN EXCLUSIVE");
      return { release: () => db.close() };
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_BUSY") {
        db.close();
        throw error;
      }
    }
    const waited = Date.now() - started;
    if (waited >= options.waitMs) {
      db.close();
      throw new VolumeLockedError(dataDir, waited);
    }
    if (toldAt === undefined || waited - toldAt >= 5000) {
      toldAt = waited;
      options.onWaiting(waited);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}
