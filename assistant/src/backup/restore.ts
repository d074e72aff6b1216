import { constants, existsSync } from "node:fs";
import { copyFile, mkdir, rename, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { DATABASE_FILE } from "../storage/sqlite.js";
import { listBackups, timestampOf } from "./catalog.js";
import { BackupError } from "./errors.js";
import { fsync, gunzipToFile, removeFiles, withSqliteCompanions } from "./files.js";
import { describeFailure, type ObjectStore } from "./object-store.js";
import type { BackupSettings } from "./settings.js";
import { checkSchemaVersion, lockIdleDatabase, verifyDatabase } from "./sqlite-files.js";

export interface RestoreOptions {
  /** The object to restore; the newest backup of this assistant when undefined. */
  key: string | undefined;
  /** Keep the replaced database as `assistant.db.before-restore-<timestamp>`. */
  keep: boolean;
}

async function newestKey(settings: BackupSettings, store: ObjectStore): Promise<string> {
  const [newest] = await listBackups(store, settings.folder);
  if (newest === undefined) throw new BackupError(`there are no backups under ${store.url(settings.folder)}`);
  return newest.key;
}

async function download(store: ObjectStore, key: string, target: string): Promise<void> {
  const compressed = await store.download(key);
  try {
    await gunzipToFile(compressed, target);
  } catch (error) {
    throw new BackupError(`reading ${store.url(key)} failed: ${describeFailure(error)}`);
  }
}

/**
 * Puts `incoming` in place of `target` with one rename, so the data directory never lacks a whole
 * database. The replaced database stays locked from the check that nothing uses it until after the
 * rename, so no process can open it and write in between (writes the rename would lose). The WAL and
 * shared memory of the replaced database go first: SQLite would otherwise apply the old WAL's pages
 * to the restored file.
 */
async function replaceDatabase(target: string, incoming: string, keepAs: string | undefined, logger: Logger): Promise<void> {
  const [, wal, shm] = withSqliteCompanions(target);
  const lock = existsSync(target) ? lockIdleDatabase(target) : undefined;
  try {
    if (existsSync(target)) {
      if (lock === undefined) logger.warn({ path: target }, "the database being replaced is not readable; replacing it anyway");
      if (keepAs !== undefined) {
        await copyFile(target, keepAs, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
        // Only an unreadable database still has a WAL here; beside the copy, SQLite reads it with it.
        if (existsSync(wal)) await rename(wal, `${keepAs}-wal`);
        logger.info({ path: keepAs, bytes: (await stat(keepAs)).size }, "replaced database kept");
      }
    }
    await removeFiles([wal, shm]);
    await rename(incoming, target);
    await fsync(dirname(target));
  } finally {
    lock?.release();
  }
}

/** Downloads, verifies and puts a backup in place of the database, which nothing may have open. */
export async function restoreBackup(settings: BackupSettings, store: ObjectStore, logger: Logger, options: RestoreOptions): Promise<void> {
  const target = join(settings.dataDir, DATABASE_FILE);
  await mkdir(settings.dataDir, { recursive: true });
  // Refuse before a long download, not only after it.
  if (existsSync(target)) lockIdleDatabase(target)?.release();
  const key = options.key ?? (await newestKey(settings, store));
  const stamp = timestampOf(new Date());
  const incoming = join(settings.dataDir, `${DATABASE_FILE}.restore-${stamp}.tmp`);
  try {
    await download(store, key, incoming);
    logger.info({ key: store.url(key), file: incoming, bytes: (await stat(incoming)).size }, "backup downloaded");
    const what = `the backup ${store.url(key)}`;
    const schemaVersion = verifyDatabase(incoming, what);
    checkSchemaVersion(schemaVersion, what);
    logger.info({ key: store.url(key), schemaVersion }, "backup verified");
    await replaceDatabase(target, incoming, options.keep ? `${target}.before-restore-${stamp}` : undefined, logger);
    logger.info({ key: store.url(key), path: target, bytes: (await stat(target)).size }, "database restored");
  } finally {
    await removeFiles(withSqliteCompanions(incoming));
  }
}
