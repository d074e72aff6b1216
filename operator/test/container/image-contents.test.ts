import assert from "node:assert/strict";
import { imageTag } from "../../src/api/images.js";
import { imageFiles, imageRef, podman } from "../support/container.js";

interface ImageConfig {
  Size: number;
  Config: { User?: string; Labels?: Record<string, string>; Cmd?: string[]; Entrypoint?: string[] | null };
}

const shippedNowhere = [
  "bin/sh",
  "bin/bash",
  "usr/bin/sh",
  "usr/bin/bash",
  "usr/bin/apt",
  "usr/bin/apt-get",
  "usr/bin/dpkg",
  "usr/bin/gcc",
  "usr/bin/g++",
  "usr/bin/make",
  "usr/bin/python3",
  "usr/local/bin/npm",
  "usr/local/bin/npx",
  "usr/local/lib/node_modules/npm",
  "usr/local/include/node",
  "root/.npm",
  "var/cache/apt",
  "var/lib/apt/lists",
];

for (const [name, maxMB, user] of [
  ["assistant", 300, "10001:10001"],
  ["operator", 200, "65532:65532"],
] as const) {
  describe(`the ${name} image`, function () {
    let ref: string;
    let config: ImageConfig;
    let files: Set<string>;

    before(async function () {
      ref = await imageRef(name);
      [config] = JSON.parse(await podman("image", "inspect", ref)) as [ImageConfig];
      files = await imageFiles(ref);
    });

    it(`is at most ${maxMB} MB`, function () {
      console.log(`      ${ref}: ${(config.Size / 1e6).toFixed(0)} MB`);
      assert.ok(config.Size <= maxMB * 1e6, `${(config.Size / 1e6).toFixed(0)} MB`);
    });

    it("runs as a numeric non-root user, so that runAsNonRoot can verify it", function () {
      assert.equal(config.Config.User, user);
    });

    it("carries the OCI labels: source, version and revision", function () {
      const labels = config.Config.Labels ?? {};
      assert.match(labels["org.opencontainers.image.source"] ?? "", /^https:\/\/github\.com\//);
      assert.equal(labels["org.opencontainers.image.version"], imageTag);
      assert.match(labels["org.opencontainers.image.revision"] ?? "", /^[0-9a-f]{40}(-dirty)?$/);
    });

    it("holds Node.js and no shell, package manager, compiler, npm or package cache", function () {
      assert.ok(files.has("usr/local/bin/node"));
      const present = shippedNowhere.filter((path) => files.has(path));
      assert.deepEqual(present, []);
    });

    it("records the Debian packages it copies libraries from, for image scanners", function () {
      assert.ok(files.has("etc/os-release"));
      assert.ok(files.has("var/lib/dpkg/status.d/libc6"), "libc6");
      assert.ok(files.has("usr/share/doc/libc6/copyright"), "libc6's licence");
    });

    it("ships no tests, TypeScript sources or source maps", function () {
      const offending = [...files].filter((path) => /(^|\/)test\/.*\.js$|\.ts$|\.map$/.test(path) && !path.includes("/node_modules/"));
      assert.deepEqual(offending, []);
    });
  });
}
