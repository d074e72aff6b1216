import { existsSync } from "node:fs";
import Database, { SqliteError } from "better-sqlite3";
import { migrations } from "../storage/sqlite.js";
import { BackupError } from "./errors.js";

/** How long to wait for a lock the running assistant holds for one of its (short) transactions. */
const BUSY_TIMEOUT_MS = 5000;
/** An open connection holds its lock for as long as it is open: waiting longer would not change the answer. */
const IN_USE_TIMEOUT_MS = 1000;
const ALL_PAGES = 0x7fffffff;

/**
 * Copies the live database with SQLite's online backup API into `target`: a consistent snapshot even
 * while the assistant (another process) writes. Read-only, so the backup never changes the live file.
 */
export async function snapshotDatabase(source: string, target: string): Promise<void> {
  if (!existsSync(source)) throw new BackupError(`no database at ${source}: is DATA_DIR the assistant's data volume?`);
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    // One step copies every page inside one read transaction. In small steps each write of the running
    // assistant would restart the copy, and a busy assistant could keep it from ever finishing.
    await db.backup(target, { progress: () => ALL_PAGES });
  } finally {
    db.close();
  }
}

/** Fails unless `path` passes `PRAGMA integrity_check`; returns its schema version. */
export function verifyDatabase(path: string, what: string): number {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    const problems = (db.pragma("integrity_check") as { integrity_check: string }[]).map((row) => row.integrity_check);
    if (problems.join() !== "ok") throw new BackupError(`${what} fails the integrity check: ${problems.slice(0, 3).join("; ")}`);
    return db.pragma("user_version", { simple: true }) as number;
  } catch (error) {
    if (error instanceof SqliteError) throw new BackupError(`${what} is not a usable SQLite database: ${error.message}`);
    throw error;
  } finally {
    db?.close();
  }
}

/** Fails unless the schema version is one this build of the assistant can open. */
export function checkSchemaVersion(version: number, what: string): void {
  if (version === 0) throw new BackupError(`${what} is not an assistant database (it has no schema version)`);
  if (version > migrations.length) {
    throw new BackupError(`${what} has schema version ${version}, newer than this image's ${migrations.length}: restore it with the assistant image that took it`);
  }
}

export interface IdleDatabaseLock {
  /** Closes the connection, which lets go of the lock. */
  release(): void;
}

/**
 * Makes sure no process has the database open, folds its WAL into the main file (so the file alone is
 * the whole database) and keeps it that way: the returned lock excludes every other connection until
 * released. A connection in WAL mode holds a shared lock on the database file for as long as it is
 * open, even when idle, so an exclusive lock fails exactly while the assistant runs (a plain
 * `BEGIN EXCLUSIVE` would not: in WAL mode it only excludes other writers). The database also leaves
 * WAL mode: closing this connection after the file was renamed over must not touch the `-wal` path,
 * which by then belongs to the database put in its place (the assistant turns WAL on again when it opens).
 * Undefined when the existing file is not a readable database (the reason to restore, often).
 */
export function lockIdleDatabase(path: string): IdleDatabaseLock | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: IN_USE_TIMEOUT_MS });
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE; COMMIT");
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.pragma("journal_mode = DELETE");
    // With locking_mode EXCLUSIVE the lock this takes is kept after the commit, until the connection closes.
    db.exec("BEGIN EXCLUSIVE; COMMIT");
    const held = db;
    return { release: () => held.close() };
  } catch (error) {
    db?.close();
    if (error instanceof SqliteError && (error.code === "SQLITE_BUSY" || error.code === "SQLITE_LOCKED")) {
      throw new BackupError(
        `${path} is in use: stop the assistant first (kubectl scale aia <name> --replicas=0), then run the restore again`,
        2,
      );
    }
    if (error instanceof SqliteError) return undefined;
    throw error;
  }
}
