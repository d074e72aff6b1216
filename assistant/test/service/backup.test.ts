import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { apiClient } from "../support/client.js";
import { KNOWLEDGE } from "../support/knowledge.js";
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from "../support/s3-server.js";
import { startService, tempDir, type RunningService } from "../support/service.js";

/** The compiled tool, as the CronJob runs it. */
const TOOL = fileURLToPath(new URL("../../src/backup/main.js", import.meta.url));
const BUCKET = "assistant-backups";

interface ChatReply {
  reply: string;
  conversationId: string;
  sources: { source: string }[];
}

interface StoredTurn {
  seq: number;
  role: string;
  content: string;
}

interface StoredConversation {
  turns: StoredTurn[];
}

interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON log lines on stdout. */
  logs: { msg: string; key?: string; bytes?: number }[];
}

/** `20261128T153000Z`, written here independently of the tool, as the key contract spells it. */
const stamp = (date: Date): string => date.toISOString().replace(/[-:]|\.\d{3}/g, "");
const HOUR = 60 * 60 * 1000;
const hoursAgo = (hours: number): Date => new Date(Date.now() - hours * HOUR);

describe("backup and restore", function () {
  this.timeout(180_000);
  let s3: S3Server;

  before(async () => {
    s3 = await startS3Server(BUCKET);
  });
  after(async () => {
    await s3.stop();
  });

  function runTool(args: string[], dataDir: string, name: string, env: Record<string, string> = {}): Promise<ToolRun> {
    const child = spawn(process.execPath, [TOOL, ...args], {
      env: {
        ...process.env,
        LOG_LEVEL: "info",
        DATA_DIR: dataDir,
        BACKUP_S3_ENDPOINT: s3.endpoint,
        BACKUP_S3_BUCKET: BUCKET,
        BACKUP_NAME: name,
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => {
      child.once("close", (code) => {
        const logs = stdout
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as ToolRun["logs"][number]);
        resolve({ code, stdout, stderr, logs });
      });
    });
  }

  /** Runs `backup` and returns the key it uploaded. */
  async function backUp(dataDir: string, name: string, env: Record<string, string> = {}): Promise<string> {
    const run = await runTool(["backup"], dataDir, name, env);
    assert.equal(run.code, 0, run.stderr);
    const uploaded = run.logs.find((line) => line.msg === "backup uploaded");
    assert.ok(uploaded?.key !== undefined && uploaded.bytes !== undefined && uploaded.bytes > 0, run.stdout);
    assert.match(uploaded.key, new RegExp(`^s3://${BUCKET}/${name}/\\d{8}T\\d{6}Z\\.db\\.gz$`));
    return uploaded.key.slice(`s3://${BUCKET}/`.length);
  }

  /** A real assistant database in a fresh data directory, with one conversation; the service is stopped again. */
  async function seededDataDir(): Promise<string> {
    const service = await startService();
    await apiClient(service.url)("POST", "/api/v1/chat", { message: "seed" });
    assert.deepEqual(await service.stop(), { code: 0, signal: null });
    return service.dataDir;
  }

  const uploadOld = async (name: string, ...dates: Date[]): Promise<string[]> => {
    const keys = dates.map((date) => `${name}/${stamp(date)}.db.gz`);
    for (const key of keys) await s3.put(key, gzipSync("not read by retention"));
    return keys;
  };

  it("restores every conversation acknowledged before an online backup, and the knowledge base", async () => {
    const name = "team-a/online";
    const service = await startService({ knowledge: KNOWLEDGE });
    const { dataDir } = service;
    const chat = apiClient(service.url);
    let restored: RunningService | undefined;
    // An open read transaction keeps SQLite from checkpointing anything written after it began, so every
    // conversation below stays in the WAL: a copy of the database file alone would lose them all.
    const pin = new Database(join(dataDir, "assistant.db"), { readonly: true });
    pin.exec("BEGIN");
    pin.prepare("SELECT count(*) FROM conversations").get();
    try {
      const before = new Map<string, StoredTurn[]>();
      for (let index = 0; index < 6; index += 1) {
        const first = await chat<ChatReply>("POST", "/api/v1/chat", { message: `How many days of annual leave do I get? (${index})` });
        const { conversationId } = first.body;
        await chat("POST", "/api/v1/chat", { message: "What is the VPN server address?", conversationId });
        before.set(conversationId, (await chat<StoredConversation>("GET", `/api/v1/conversations/${conversationId}`)).body.turns);
      }

      // A burst of new conversations runs before, during and after the backup.
      const acknowledged: { message: string; reply: string; conversationId: string }[] = [];
      let backupDone = false;
      let startBackup = (): void => undefined;
      const enoughAcknowledged = new Promise<void>((resolve) => (startBackup = resolve));
      let sent = 0;
      const burst = Array.from({ length: 4 }, async () => {
        while (!backupDone && sent < 2000) {
          const message = `Where is the cafeteria? burst ${sent++}`;
          const { status, body } = await chat<ChatReply>("POST", "/api/v1/chat", { message });
          assert.equal(status, 200);
          acknowledged.push({ message, reply: body.reply, conversationId: body.conversationId });
          if (acknowledged.length >= 10) startBackup();
        }
      });
      await enoughAcknowledged;
      const acknowledgedBefore = acknowledged.slice();
      const backup = runTool(["backup"], dataDir, name).then((run) => {
        backupDone = true;
        return { run, acknowledgedBy: acknowledged.length };
      });
      const [{ run, acknowledgedBy }] = await Promise.all([backup, ...burst]);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(acknowledgedBy > acknowledgedBefore.length, "no chat completed while the backup ran");
      assert.deepEqual(await s3.keys(`${name}/`), [run.logs.find((line) => line.msg === "backup uploaded")?.key?.replace(`s3://${BUCKET}/`, "")]);
      pin.close();

      assert.deepEqual(await service.stop(), { code: 0, signal: null });
      rmSync(dataDir, { recursive: true, force: true });
      const restore = await runTool(["restore", "--latest"], dataDir, name);
      assert.equal(restore.code, 0, restore.stderr);
      assert.ok(restore.logs.some((line) => line.msg === "database restored"));
      assert.deepEqual(readdirSync(dataDir), ["assistant.db"]);

      // No knowledge directory now: whatever the assistant cites comes from the restored database.
      restored = await startService({ dataDir });
      const again = apiClient(restored.url);
      for (const [conversationId, turns] of before) {
        const { status, body } = await again<StoredConversation>("GET", `/api/v1/conversations/${conversationId}`);
        assert.equal(status, 200, `conversation ${conversationId} lost`);
        assert.deepEqual(body.turns.map(({ seq, role, content }) => ({ seq, role, content })), turns.map(({ seq, role, content }) => ({ seq, role, content })));
      }
      for (const { message, reply, conversationId } of acknowledgedBefore) {
        const { status, body } = await again<StoredConversation>("GET", `/api/v1/conversations/${conversationId}`);
        assert.equal(status, 200, `conversation of "${message}" lost`);
        assert.deepEqual(body.turns.map((turn) => turn.content), [message, reply]);
      }
      // Chats acknowledged during the backup may or may not be in it, but never half of one.
      for (const { conversationId } of acknowledged.slice(acknowledgedBefore.length)) {
        const { status, body } = await again<StoredConversation>("GET", `/api/v1/conversations/${conversationId}`);
        if (status === 200) assert.deepEqual(body.turns.map((turn) => turn.role), ["user", "assistant"]);
        else assert.equal(status, 404);
      }

      const answer = await again<ChatReply>("POST", "/api/v1/chat", { message: "What is the VPN server address?" });
      assert.equal(answer.status, 200);
      assert.match(answer.body.reply, /vpn\.example\.com/);
      assert.ok(answer.body.sources.some((source) => source.source === "it/vpn.md"), JSON.stringify(answer.body.sources));
      const leave = await again<ChatReply>("POST", "/api/v1/chat", { message: "年假有几天？" });
      assert.ok(leave.body.sources.some((source) => source.source === "hr/leave.md"), JSON.stringify(leave.body.sources));
    } finally {
      pin.close();
      await service.stop();
      await restored?.stop();
    }
  });

  it("lists backups newest first and restores a chosen one, keeping the database it replaces", async () => {
    const name = "team-a/choose";
    const service = await startService();
    const chat = apiClient(service.url);
    const first = (await chat<ChatReply>("POST", "/api/v1/chat", { message: "first conversation" })).body.conversationId;
    const older = await backUp(service.dataDir, name);
    // Keys are to the second: the next backup needs the next one.
    while (stamp(new Date()) === /(\d{8}T\d{6}Z)/.exec(older)?.[1]) await new Promise((resolve) => setTimeout(resolve, 50));
    const second = (await chat<ChatReply>("POST", "/api/v1/chat", { message: "second conversation" })).body.conversationId;
    const newer = await backUp(service.dataDir, name);
    assert.deepEqual(await service.stop(), { code: 0, signal: null });

    const list = await runTool(["list"], service.dataDir, name);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trim().split("\n").map((line) => line.split(/\s+/));
    assert.deepEqual(rows[0], ["KEY", "BYTES", "TAKEN"]);
    assert.deepEqual(rows.slice(1).map((row) => row[0]), [newer, older]);
    for (const row of rows.slice(1)) {
      assert.match(row[1] ?? "", /^[1-9]\d*$/);
      assert.match(row[2] ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }

    const restore = await runTool(["restore", "--key", older], service.dataDir, name);
    assert.equal(restore.code, 0, restore.stderr);
    const keptCopies = () => readdirSync(service.dataDir).filter((file) => /^assistant\.db\.before-restore-\d{8}T\d{6}Z$/.test(file));
    const kept = keptCopies();
    assert.equal(kept.length, 1);
    const copy = new Database(join(service.dataDir, kept[0] ?? ""), { readonly: true });
    assert.deepEqual(copy.prepare("SELECT count(*) AS n FROM conversations").get(), { n: 2 });
    copy.close();

    const restarted = await startService({ dataDir: service.dataDir });
    try {
      const again = apiClient(restarted.url);
      assert.equal((await again("GET", `/api/v1/conversations/${first}`)).status, 200);
      assert.equal((await again("GET", `/api/v1/conversations/${second}`)).status, 404);
    } finally {
      assert.deepEqual(await restarted.stop(), { code: 0, signal: null });
    }

    const latest = await runTool(["restore", "--no-keep"], service.dataDir, name);
    assert.equal(latest.code, 0, latest.stderr);
    assert.deepEqual(keptCopies(), kept);
    const final = await startService({ dataDir: service.dataDir });
    try {
      assert.equal((await apiClient(final.url)("GET", `/api/v1/conversations/${second}`)).status, 200);
    } finally {
      await final.stop();
    }
  });

  it("refuses to restore while the assistant has the database open", async () => {
    const name = "team-a/running";
    const service = await startService();
    try {
      const chat = apiClient(service.url);
      const { conversationId } = (await chat<ChatReply>("POST", "/api/v1/chat", { message: "still here?" })).body;
      await backUp(service.dataDir, name);
      const before = readdirSync(service.dataDir).sort();

      const restore = await runTool(["restore", "--latest"], service.dataDir, name);
      assert.equal(restore.code, 2);
      assert.match(restore.stderr, /^restore: .*assistant\.db is in use: stop the assistant first \(kubectl scale aia <name> --replicas=0\), then run the restore again\n$/);
      assert.deepEqual(readdirSync(service.dataDir).sort(), before);
      const { status, body } = await chat<StoredConversation>("GET", `/api/v1/conversations/${conversationId}`);
      assert.equal(status, 200);
      assert.equal(body.turns.length, 2);
      assert.equal((await chat("POST", "/api/v1/chat", { message: "and writing?", conversationId })).status, 200);
    } finally {
      await service.stop();
    }
  });

  it("refuses a damaged backup and leaves the database as it was", async () => {
    const name = "team-a/damaged";
    const dataDir = await seededDataDir();
    const before = readdirSync(dataDir).sort();
    const [notADatabase, notGzip] = await uploadOld(name, hoursAgo(2), hoursAgo(1));
    await s3.put(notADatabase ?? "", gzipSync(Buffer.alloc(64 * 1024, "x")));
    await s3.put(notGzip ?? "", Buffer.from("plain text"));

    const damaged = await runTool(["restore", "--key", notADatabase ?? ""], dataDir, name);
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, /^restore: the backup s3:\/\/.* is not a usable SQLite database: file is not a database\n$/);
    const garbled = await runTool(["restore"], dataDir, name);
    assert.equal(garbled.code, 1);
    assert.match(garbled.stderr, new RegExp(`^restore: reading s3://${BUCKET}/${notGzip ?? ""} failed: .*incorrect header check\\n$`));
    const missing = await runTool(["restore", "--key", `${name}/nothing.db.gz`], dataDir, name);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NoSuchKey/);
    assert.deepEqual(readdirSync(dataDir).sort(), before);

    const service = await startService({ dataDir });
    try {
      assert.equal((await apiClient(service.url)<{ items: unknown[] }>("GET", "/api/v1/conversations")).body.items.length, 1);
    } finally {
      await service.stop();
    }
  });

  it("keeps the newest backups by count, never the one just taken, and leaves other objects alone", async () => {
    const dataDir = await seededDataDir();
    const name = "team-a/count";
    const [oneHour] = await uploadOld(name, hoursAgo(1), hoursAgo(2), hoursAgo(3));
    await s3.put(`${name}/notes.txt`, Buffer.from("not a backup"));
    const taken = await backUp(dataDir, name, { BACKUP_RETENTION_COUNT: "2" });
    assert.deepEqual(await s3.keys(`${name}/`), [oneHour, taken, `${name}/notes.txt`].sort());

    // A key from a clock running ahead outranks the new backup, which is still kept.
    const skewed = "team-a/skew";
    const [tomorrow] = await uploadOld(skewed, hoursAgo(-24), hoursAgo(1));
    const kept = await backUp(dataDir, skewed, { BACKUP_RETENTION_COUNT: "1" });
    assert.deepEqual(await s3.keys(`${skewed}/`), [kept, tomorrow].sort());
  });

  it("deletes backups older than the retention days", async () => {
    const dataDir = await seededDataDir();
    const name = "team-a/age";
    const [twoDays] = await uploadOld(name, hoursAgo(48), hoursAgo(24 * 10), hoursAgo(24 * 40));
    const taken = await backUp(dataDir, name, { BACKUP_RETENTION_DAYS: "7" });
    assert.deepEqual(await s3.keys(`${name}/`), [twoDays, taken].sort());
  });

  it("fails with one clear line on a bad environment, a bad command and wrong credentials", async () => {
    const dataDir = await seededDataDir();
    const name = "team-a/refused";
    const secret = "wrong-secret-5c1e9a";

    const noBucket = await runTool(["backup"], dataDir, name, { BACKUP_S3_BUCKET: "" });
    assert.equal(noBucket.code, 2);
    assert.equal(noBucket.stderr, "backup: BACKUP_S3_BUCKET is not set: the bucket that holds the backups\n");
    const badCount = await runTool(["backup"], dataDir, name, { BACKUP_RETENTION_COUNT: "three" });
    assert.equal(badCount.code, 2);
    assert.equal(badCount.stderr, 'backup: BACKUP_RETENTION_COUNT must be a whole number of at least 1, got "three"\n');
    const noCommand = await runTool([], dataDir, name);
    assert.equal(noCommand.code, 2);
    assert.match(noCommand.stderr, /^backup: usage: node dist\/src\/backup\/main\.js backup \| restore/);
    const noData = await runTool(["backup"], tempDir("empty"), name);
    assert.equal(noData.code, 1);
    assert.match(noData.stderr, /^backup: no database at .*assistant\.db: is DATA_DIR the assistant's data volume\?\n$/);

    const wrong = await runTool(["backup"], dataDir, name, { AWS_ACCESS_KEY_ID: "NOT-A-KEY", AWS_SECRET_ACCESS_KEY: secret });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^backup: uploading s3:\/\/.* failed: InvalidAccessKeyId \(HTTP 403\): .* Check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's permissions\.\n$/);
    const listing = await runTool(["list"], dataDir, name, { AWS_ACCESS_KEY_ID: "NOT-A-KEY", AWS_SECRET_ACCESS_KEY: secret });
    assert.equal(listing.code, 1);
    assert.match(listing.stderr, /InvalidAccessKeyId/);
    for (const run of [wrong, listing]) assert.ok(!`${run.stdout}${run.stderr}`.includes(secret), "the secret key was printed");
    assert.deepEqual(await s3.keys(`${name}/`), []);
    assert.equal(existsSync(join(dataDir, "assistant.db")), true);
  });
});
