import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiClient, type ErrorBody } from "../support/client.js";
import { writeSecretVolume } from "../support/secret-volume.js";
import { startService, tempDir, type RunningService } from "../support/service.js";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

const KEYS = {
  aliceOld: "alice-old-7Qm2xV9pL4rT8wZ1",
  aliceNew: "alice-new-Hk3nB6yC0sD5fG2j",
  ci: "ci-pipeline-Xy7Wq2Lp9Rt4Vb8N",
  legacy: "legacy-plain-Mn5Bv8Cx2Zl6Kj1H",
  later: "later-added-Pq4Rs7Tu1Vw3Xy9Z",
  broken: "broken-entry-Aa1Bb2Cc3Dd4Ee5F",
};

/** What the Secret holds: the documented forms, hashed wherever the plaintext need not be stored. */
const secretFiles = (): Record<string, string> => ({
  "alice-2024": `keySha256: ${sha256(KEYS.aliceOld)}\ntenant: acme\nuser: alice\n`,
  "alice-2025": JSON.stringify({ keySha256: sha256(KEYS.aliceNew), tenant: "acme", user: "alice" }),
  ci: `sha256:${sha256(KEYS.ci)}\n`,
  legacy: `${KEYS.legacy}\n`,
  broken: `key: ${KEYS.broken}\nuser: nobody\n`,
});

describe("API keys from a mounted Secret", function () {
  this.timeout(60000);
  let service: RunningService;
  let keysDir: string;
  before(async () => {
    keysDir = join(tempDir("api-keys"), "api-keys");
    writeSecretVolume(keysDir, secretFiles());
    // What the operator renders for auth.mode apiKey with apiKeysSecretRef, plus a short reload period.
    service = await startService({ config: { auth: { mode: "apiKey", apiKeysDir: keysDir, apiKeysReloadSeconds: 1 } } });
  });
  after(async () => {
    await service.stop();
  });

  const as = (key?: string) => apiClient(service.url, key);
  const statusWith = async (key: string): Promise<number> => (await as(key)("GET", "/api/v1/conversations")).status;

  it("accepts every documented key form and names the caller by the document or the key name", async () => {
    const chat = await as(KEYS.ci)<{ conversationId: string }>("POST", "/api/v1/chat", { message: "hello" });
    assert.equal(chat.status, 200);
    assert.equal(await statusWith(KEYS.legacy), 200);
    // The short forms belong to tenant "default" and a user named like the key: ci and legacy are two users.
    assert.equal((await as(KEYS.legacy)<{ items: unknown[] }>("GET", "/api/v1/conversations")).body.items.length, 0);
    assert.equal((await as(KEYS.ci)<{ items: unknown[] }>("GET", "/api/v1/conversations")).body.items.length, 1);
  });

  it("accepts two keys of one user at once, sharing that user's conversations (rotation)", async () => {
    const created = await as(KEYS.aliceOld)<{ conversationId: string }>("POST", "/api/v1/chat", { message: "年假有几天？" });
    assert.equal(created.status, 200);
    const continued = await as(KEYS.aliceNew)("POST", "/api/v1/chat", { message: "还有呢？", conversationId: created.body.conversationId });
    assert.equal(continued.status, 200);
    const seen = await as(KEYS.aliceNew)<{ turnCount: number }>("GET", `/api/v1/conversations/${created.body.conversationId}`);
    assert.equal(seen.body.turnCount, 4);
  });

  it("refuses a wrong key, a missing one, and a file that is not a valid key document", async () => {
    for (const key of ["not-a-key-at-all-0000", KEYS.broken, `${KEYS.ci}x`, sha256(KEYS.ci), `sha256:${sha256(KEYS.ci)}`]) {
      const reply = await as(key)<ErrorBody>("GET", "/api/v1/conversations");
      assert.equal(reply.status, 401, key);
      assert.equal(reply.body.error.code, "invalid_token");
      assert.match(reply.headers.get("www-authenticate") ?? "", /^Bearer realm="assistant", error="invalid_token"$/);
    }
    const missing = await as()<ErrorBody>("GET", "/api/v1/conversations");
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error.code, "unauthenticated");
    const refusal = service.logs.find((line) => line.includes("api key file refused"));
    assert.match(refusal ?? "", /"keyName":"broken"/);
  });

  it("picks up a Secret update (the kubelet's symlink swap) and an edited file without a restart", async () => {
    const files = secretFiles();
    delete files["alice-2024"];
    files["later"] = `keySha256: ${sha256(KEYS.later)}\ntenant: acme\nuser: carol\n`;
    writeSecretVolume(keysDir, files);
    while ((await statusWith(KEYS.later)) !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await statusWith(KEYS.aliceOld), 401, "a key removed from the Secret still works");
    assert.equal(await statusWith(KEYS.aliceNew), 200);

    // Written in place through the visible name, as someone editing a plain folder would.
    writeFileSync(join(keysDir, "legacy"), `sha256:${sha256("replacement-key-0123456789")}`);
    while ((await statusWith("replacement-key-0123456789")) !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await statusWith(KEYS.legacy), 401);
  });

  it("never writes a key to the log", () => {
    const log = service.logs.join("\n");
    for (const key of [...Object.values(KEYS), "replacement-key-0123456789"]) assert.ok(!log.includes(key), "a key reached the log");
    assert.match(log, /"msg":"api keys loaded"/);
  });
});
