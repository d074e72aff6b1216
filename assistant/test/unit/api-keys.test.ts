import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { ConfigError } from "../../src/config/load.js";
import type { AuthConfig } from "../../src/config/schema.js";
import { parseKeyFile } from "../../src/http/auth/api-key-file.js";
import { loadApiKeys } from "../../src/http/auth/api-keys.js";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** A pino logger whose lines the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

describe("API key files", () => {
  it("reads the full document as YAML or JSON", () => {
    assert.deepEqual(parseKeyFile("ci", `keySha256: ${"ab".repeat(32)}\ntenant: acme\nuser: bot\n`), { keySha256: "ab".repeat(32), tenant: "acme", user: "bot" });
    assert.deepEqual(parseKeyFile("ci", '{"key": "0123456789abcdef", "tenant": "acme"}'), { key: "0123456789abcdef", tenant: "acme" });
  });

  it("reads the short forms the AIAssistant API documents as tenant default and a user named like the key", () => {
    assert.deepEqual(parseKeyFile("ci", `sha256:${"cd".repeat(32)}\n`), { keySha256: "cd".repeat(32), tenant: "default", user: "ci" });
    assert.deepEqual(parseKeyFile("legacy", "sk-Abc123_def456-GHI789\n"), { key: "sk-Abc123_def456-GHI789", tenant: "default", user: "legacy" });
  });

  it("refuses anything else without quoting it", () => {
    const secret = "hunter2-hunter2-hunter2";
    for (const text of [`key: ${secret}`, `{key: ${secret}, tenant: t, extra: 1}`, `key: ${secret}\ntenant: [unclosed`, "short", `sha256:${"A".repeat(64)}`, "", `keySha256: ${"a".repeat(64)}\nkey: ${secret}\ntenant: t`]) {
      assert.throws(
        () => parseKeyFile("k", text),
        (error: Error) => !error.message.includes(secret) && /not a valid key document|neither a key/.test(error.message),
        text,
      );
    }
  });
});

describe("API key ring", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "assistant-keys-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (extra: Partial<AuthConfig> = {}): AuthConfig => ({ mode: "apiKey", apiKeysDir: dir, apiKeysReloadSeconds: 3600, apiKeys: [], ...extra });

  it("matches keys from the folder and the config by value, never by digest or prefix", async () => {
    writeFileSync(join(dir, "alice-1"), `keySha256: ${sha256("alice-key-one-000000")}\ntenant: acme\nuser: alice\n`);
    writeFileSync(join(dir, "alice-2"), JSON.stringify({ key: "alice-key-two-000000", tenant: "acme", user: "alice" }));
    writeFileSync(join(dir, ".hidden"), "ignored-key-0000000000");
    const { logger } = capturingLogger();
    const keys = await loadApiKeys(config({ apiKeys: [{ name: "inline", key: "inline-key-000000000", tenant: "globex" }] }), logger);
    try {
      assert.deepEqual(keys.match("alice-key-one-000000"), { name: "alice-1", tenant: "acme", user: "alice", digest: Buffer.from(sha256("alice-key-one-000000"), "hex") });
      assert.equal(keys.match("alice-key-two-000000")?.user, "alice");
      assert.equal(keys.match("inline-key-000000000")?.user, "inline");
      for (const wrong of ["alice-key-one-00000", "alice-key-one-0000000", sha256("alice-key-one-000000"), "ignored-key-0000000000", ""]) {
        assert.equal(keys.match(wrong), undefined, wrong);
      }
    } finally {
      keys.close();
    }
  });

  it("refuses every name of a key value given twice, and a broken file by name only", async () => {
    writeFileSync(join(dir, "a"), `sha256:${sha256("shared-key-00000000")}`);
    writeFileSync(join(dir, "b"), "shared-key-00000000");
    writeFileSync(join(dir, "c"), "own-key-000000000000");
    writeFileSync(join(dir, "broken"), "key: broken-secret-000000\n");
    const { logger, lines } = capturingLogger();
    const keys = await loadApiKeys(config(), logger);
    try {
      assert.equal(keys.match("shared-key-00000000"), undefined);
      assert.equal(keys.match("own-key-000000000000")?.name, "c");
      assert.equal(keys.match("broken-secret-000000"), undefined);
      const log = lines.join("");
      assert.match(log, /"keyNames":\["a","b"\].*share one key value/);
      assert.match(log, /"keyName":"broken".*api key file refused/);
      assert.ok(!log.includes("broken-secret") && !log.includes("shared-key") && !log.includes("own-key"));
    } finally {
      keys.close();
    }
  });

  it("stops the start when the folder cannot be read", async () => {
    await assert.rejects(loadApiKeys(config({ apiKeysDir: join(dir, "missing") }), capturingLogger().logger), ConfigError);
  });
});
