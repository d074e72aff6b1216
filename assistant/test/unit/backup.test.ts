import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, copyFileSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { backupKey, takenAtOf, timestampOf, type Backup } from "../../src/backup/catalog.js";
import { BackupError } from "../../src/backup/errors.js";
import { gunzipToFile, gzipFile } from "../../src/backup/files.js";
import { expiredBackups } from "../../src/backup/retention.js";
import { backupSettings } from "../../src/backup/settings.js";
import { checkSchemaVersion, lockIdleDatabase, verifyDatabase } from "../../src/backup/sqlite-files.js";
import { migrations } from "../../src/storage/sqlite.js";

const HOUR = 60 * 60 * 1000;
const now = new Date("2026-11-28T15:30:00Z");
const backupAt = (hoursAgo: number): Backup => {
  const takenAt = new Date(now.getTime() - hoursAgo * HOUR);
  return { key: backupKey("team-a/demo/", takenAt), bytes: 1, takenAt };
};
const keysOf = (backups: Backup[]) => backups.map((backup) => backup.key);

const env = {
  BACKUP_S3_BUCKET: "backups",
  BACKUP_NAME: "team-a/demo",
  AWS_ACCESS_KEY_ID: "id",
  AWS_SECRET_ACCESS_KEY: "secret",
};

/** The message of the BackupError `run` throws, with its exit code. */
function failure(run: () => unknown): { message: string; exitCode: number } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof BackupError, `not a BackupError: ${String(error)}`);
    return { message: error.message, exitCode: error.exitCode };
  }
  assert.fail("did not throw");
}

describe("backup keys", () => {
  it("names a backup by its UTC second under the folder and reads the time back", () => {
    const key = backupKey("backups/team-a/demo/", new Date("2026-11-28T15:30:00.789Z"));
    assert.equal(key, "backups/team-a/demo/20261128T153000Z.db.gz");
    assert.equal(takenAtOf("backups/team-a/demo/", key)?.toISOString(), "2026-11-28T15:30:00.000Z");
    assert.equal(timestampOf(new Date("2027-01-02T03:04:05Z")), "20270102T030405Z");
  });

  it("does not take other objects for backups", () => {
    const folder = "team-a/demo/";
    for (const key of [
      "team-a/demo/notes.txt",
      "team-a/demo/20261128T153000Z.db",
      "team-a/demo/old/20261128T153000Z.db.gz",
      "team-a/demo2/20261128T153000Z.db.gz",
      "team-a/demo/20261340T153000Z.db.gz",
      "team-a/demo/20261128T153000Z.db.gz.part",
    ]) {
      assert.equal(takenAtOf(folder, key), undefined, key);
    }
  });
});

describe("backup retention", () => {
  const backups = [backupAt(0), backupAt(1), backupAt(30), backupAt(24 * 10), backupAt(24 * 40)];

  it("keeps the newest count", () => {
    assert.deepEqual(keysOf(expiredBackups(backups, { count: 2, days: undefined }, now, backups[0]?.key ?? "")), keysOf(backups.slice(2)));
  });

  it("deletes what is older than the days", () => {
    assert.deepEqual(keysOf(expiredBackups(backups, { count: undefined, days: 7 }, now, backups[0]?.key ?? "")), keysOf(backups.slice(3)));
  });

  it("applies both limits", () => {
    assert.deepEqual(keysOf(expiredBackups(backups, { count: 4, days: 20 }, now, backups[0]?.key ?? "")), keysOf(backups.slice(4)));
  });

  it("keeps everything without a policy", () => {
    assert.deepEqual(expiredBackups(backups, { count: undefined, days: undefined }, now, backups[0]?.key ?? ""), []);
  });

  it("never deletes the backup just taken, even when a newer-looking key outranks it", () => {
    const future = backupAt(-24);
    const justTaken = backupAt(0);
    const expired = expiredBackups([future, justTaken, backupAt(1)], { count: 1, days: undefined }, now, justTaken.key);
    assert.deepEqual(keysOf(expired), [backupAt(1).key]);
  });
});

describe("backup settings", () => {
  it("reads the contract's variables with their defaults", () => {
    const settings = backupSettings(env);
    assert.equal(settings.dataDir, join(process.cwd(), "data"));
    assert.deepEqual(settings.s3, { endpoint: undefined, region: "us-east-1", bucket: "backups", accessKeyId: "id", secretAccessKey: "secret" });
    assert.equal(settings.folder, "team-a/demo/");
    assert.equal(settings.retentionCount, undefined);
    assert.equal(settings.retentionDays, undefined);
  });

  it("puts the prefix before the name and reads the retention", () => {
    const settings = backupSettings({
      ...env,
      DATA_DIR: "/app/data",
      BACKUP_S3_PREFIX: "assistants/",
      BACKUP_NAME: "team-a/demo/",
      BACKUP_S3_ENDPOINT: "http://minio.storage:9000",
      BACKUP_S3_REGION: "eu-central-1",
      BACKUP_RETENTION_COUNT: "7",
      BACKUP_RETENTION_DAYS: "30",
    });
    assert.equal(settings.dataDir, "/app/data");
    assert.equal(settings.folder, "assistants/team-a/demo/");
    assert.equal(settings.s3.endpoint, "http://minio.storage:9000");
    assert.equal(settings.s3.region, "eu-central-1");
    assert.equal(settings.retentionCount, 7);
    assert.equal(settings.retentionDays, 30);
  });

  it("names the variable that is missing or wrong, as a usage error", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ BACKUP_S3_BUCKET: "" }, /^BACKUP_S3_BUCKET is not set/],
      [{ BACKUP_NAME: "" }, /^BACKUP_NAME is not set/],
      [{ BACKUP_NAME: "team-a/../other" }, /^BACKUP_NAME must be path segments/],
      [{ BACKUP_NAME: "/team-a" }, /^BACKUP_NAME must be path segments/],
      [{ AWS_ACCESS_KEY_ID: "" }, /^AWS_ACCESS_KEY_ID is not set/],
      [{ AWS_SECRET_ACCESS_KEY: "" }, /^AWS_SECRET_ACCESS_KEY is not set/],
      [{ BACKUP_S3_ENDPOINT: "minio:9000" }, /^BACKUP_S3_ENDPOINT must be an http\(s\) URL/],
      [{ BACKUP_RETENTION_COUNT: "0" }, /^BACKUP_RETENTION_COUNT must be a whole number of at least 1, got "0"/],
      [{ BACKUP_RETENTION_DAYS: "1.5" }, /^BACKUP_RETENTION_DAYS must be a whole number/],
    ];
    for (const [change, expected] of cases) {
      const { message, exitCode } = failure(() => backupSettings({ ...env, ...change }));
      assert.match(message, expected);
      assert.equal(exitCode, 2);
    }
  });

  it("never puts the secret key in a message", () => {
    const { message } = failure(() => backupSettings({ ...env, AWS_SECRET_ACCESS_KEY: "s3cr3t-value", BACKUP_RETENTION_DAYS: "x" }));
    assert.doesNotMatch(message, /s3cr3t-value/);
  });
});

describe("backup SQLite files", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "assistant-backup-unit-"));
    path = join(dir, "assistant.db");
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, text TEXT NOT NULL); CREATE INDEX items_by_text ON items (text)");
    const insert = db.prepare("INSERT INTO items (text) VALUES (?)");
    for (let index = 0; index < 2000; index += 1) insert.run(`item number ${index} `.repeat(5));
    db.pragma(`user_version = ${migrations.length}`);
    db.close();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to lock a database another connection has open, even an idle one", () => {
    const other = new Database(path);
    try {
      other.prepare("SELECT count(*) FROM items").get();
      const { message, exitCode } = failure(() => lockIdleDatabase(path));
      assert.match(message, /is in use: stop the assistant first \(kubectl scale aia <name> --replicas=0\)/);
      assert.equal(exitCode, 2);
    } finally {
      other.close();
    }
  });

  it("folds the WAL of an unclosed database into the file", () => {
    const writer = new Database(path);
    writer.pragma("wal_autocheckpoint = 0");
    writer.prepare("INSERT INTO items (text) VALUES ('only in the WAL')").run();
    // Copy the files as a killed process leaves them: the insert lives only in the WAL.
    const killed = join(dir, "killed.db");
    for (const suffix of ["", "-wal"]) copyFileSync(`${path}${suffix}`, `${killed}${suffix}`);
    writer.close();

    lockIdleDatabase(killed)?.release();
    assert.equal(existsSync(`${killed}-wal`), false);
    const reopened = new Database(killed, { readonly: true });
    assert.deepEqual(reopened.prepare("SELECT count(*) AS n FROM items WHERE text = 'only in the WAL'").get(), { n: 1 });
    reopened.close();
  });

  it("reports a file that is no database as unreadable instead of in use", () => {
    writeFileSync(path, "not a database at all, just text that is long enough to have a header".repeat(100));
    assert.equal(lockIdleDatabase(path), undefined);
  });

  it("keeps every other connection out until the lock is released", () => {
    const lock = lockIdleDatabase(path);
    assert.ok(lock);
    try {
      const opener = new Database(path, { timeout: 100 });
      try {
        assert.throws(() => opener.prepare("SELECT count(*) FROM items").get(), /database is locked/);
      } finally {
        opener.close();
      }
    } finally {
      lock.release();
    }
    const after = new Database(path, { readonly: true });
    assert.equal((after.prepare("SELECT count(*) AS n FROM items").get() as { n: number }).n, 2000);
    after.close();
  });

  it("verifies a sound database and returns its schema version", () => {
    assert.equal(verifyDatabase(path, "the snapshot"), migrations.length);
  });

  it("rejects a damaged database", () => {
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.alloc(2048, 0xa5), 0, 2048, 4096 * 3 + 100);
    closeSync(fd);
    const { message } = failure(() => verifyDatabase(path, "the backup s3://b/k"));
    assert.match(message, /^the backup s3:\/\/b\/k (fails the integrity check|is not a usable SQLite database)/);
  });

  it("rejects schema versions this build cannot open", () => {
    const unversioned = failure(() => {
      checkSchemaVersion(0, "the backup");
    });
    assert.match(unversioned.message, /is not an assistant database/);
    const newer = failure(() => {
      checkSchemaVersion(migrations.length + 1, "the backup");
    });
    assert.match(newer.message, /newer than this image's/);
    checkSchemaVersion(migrations.length, "the backup");
  });
});

describe("backup files", () => {
  it("gzips with the size and MD5 of what it wrote, and gunzips it back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "assistant-backup-files-"));
    try {
      const original = Buffer.concat([randomBytes(300_000), Buffer.alloc(300_000, "a")]);
      writeFileSync(join(dir, "db"), original);
      const written = await gzipFile(join(dir, "db"), join(dir, "db.gz"));
      const compressed = readFileSync(join(dir, "db.gz"));
      assert.equal(written.bytes, compressed.length);
      assert.equal(written.md5, createHash("md5").update(compressed).digest("base64"));
      assert.ok(written.bytes < original.length);
      await gunzipToFile(createReadStream(join(dir, "db.gz")), join(dir, "back"));
      assert.deepEqual(readFileSync(join(dir, "back")), original);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
