import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { DATABASE_FILE } from "../storage/sqlite.js";
import { backupKey, listBackups } from "./catalog.js";
import { BackupError } from "./errors.js";
import { gzipFile } from "./files.js";
import type { ObjectStore } from "./object-store.js";
import { expiredBackups } from "./retention.js";
import type { BackupSettings } from "./settings.js";
import { snapshotDatabase, verifyDatabase } from "./sqlite-files.js";

async function applyRetention(settings: BackupSettings, store: ObjectStore, logger: Logger, justTaken: string): Promise<void> {
  const policy = { count: settings.retentionCount, days: settings.retentionDays };
  if (policy.count === undefined && policy.days === undefined) return;
  const backups = await listBackups(store, settings.folder);
  const expired = expiredBackups(backups, policy, new Date(), justTaken);
  for (const backup of expired) {
    await store.remove(backup.key);
    logger.info({ key: store.url(backup.key), bytes: backup.bytes, takenAt: backup.takenAt }, "expired backup deleted");
  }
  logger.info({ ...policy, kept: backups.length - expired.length, deleted: expired.length }, "retention applied");
}

/** Snapshot, verify, compress and upload the database, then let retention delete what has expired. */
export async function takeBackup(settings: BackupSettings, store: ObjectStore, logger: Logger): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "assistant-backup-"));
  try {
    const source = join(settings.dataDir, DATABASE_FILE);
    const snapshot = join(work, DATABASE_FILE);
    const takenAt = new Date();
    await snapshotDatabase(source, snapshot);
    logger.info({ source, snapshot, bytes: (await stat(snapshot)).size }, "snapshot taken");
    const schemaVersion = verifyDatabase(snapshot, "the snapshot");
    logger.info({ snapshot, schemaVersion }, "snapshot verified");
    const compressed = `${snapshot}.gz`;
    const { bytes, md5 } = await gzipFile(snapshot, compressed);
    logger.info({ file: compressed, bytes }, "snapshot compressed");
    const key = backupKey(settings.folder, takenAt);
    await store.upload(key, compressed, md5);
    logger.info({ key: store.url(key), bytes }, "backup uploaded");
    try {
      await applyRetention(settings, store, logger, key);
    } catch (error) {
      if (!(error instanceof BackupError)) throw error;
      throw new BackupError(`${store.url(key)} was uploaded, but retention failed: ${error.message}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
