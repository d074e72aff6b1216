// Runs the named test tiers one after another, each in its own mocha process, and closes with
// one "N passed, N failed" line. A tier that runs no test fails the run: a skipped tier must be
// loud, never silent. The real tier's mocha runs inside the real node's network namespace: this
// script starts the node (hack/control-plane.sh up --real) before it and stops it after.
//
//   node hack/test/run-tiers.mjs unit service embeddings api e2e container real
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inRealNode } from "./in-real-node.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** What each tier runs; specs are the compiled tests under each workspace's dist/. */
const tiers = {
  unit: { specs: ["operator/dist/test/unit/**/*.test.js", "assistant/dist/test/unit/**/*.test.js"] },
  service: { specs: ["assistant/dist/test/service/**/*.test.js"], hooks: "assistant/dist/test/support/postgres-tier.js" },
  // A real embedding model (hack/embeddings.sh installs it once into the tools cache).
  embeddings: { specs: ["assistant/dist/test/embeddings/**/*.test.js"] },
  api: { specs: ["operator/dist/test/api/**/*.test.js"], hooks: "operator/dist/test/support/api-tier.js" },
  e2e: { specs: ["operator/dist/test/e2e/**/*.test.js"], hooks: "operator/dist/test/support/e2e-tier.js" },
  container: { specs: ["operator/dist/test/container/**/*.test.js"], hooks: "operator/dist/test/support/container-tier.js" },
  real: { specs: ["operator/dist/test/real/**/*.test.js"], hooks: "operator/dist/test/support/real-tier.js", realNode: true },
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in tiers));
if (requested.length === 0 || unknown.length > 0) {
  console.error(`usage: run-tiers.mjs TIER... (tiers: ${Object.keys(tiers).join(", ")})`);
  process.exit(2);
}

const statsDir = mkdtempSync(join(tmpdir(), "aia-test-stats-"));
const results = [];
try {
  for (const name of requested) {
    const tier = tiers[name];
    const statsFile = join(statsDir, `${name}.json`);
    const args = [
      "--reporter", join(root, "hack/test/stats-reporter.cjs"),
      "--timeout", "20000",
      "--exit",
      ...(tier.hooks ? ["--require", tier.hooks] : []),
      ...tier.specs,
    ];
    console.log(`\n=== ${name} tier`);
    const started = Date.now();
    const mocha = [join(root, "node_modules/.bin/mocha"), ...args];
    const child = tier.realNode
      ? inRealNode(mocha, { AIA_TEST_STATS: statsFile })
      : spawnSync(mocha[0], mocha.slice(1), { cwd: root, stdio: "inherit", env: { ...process.env, AIA_TEST_STATS: statsFile } });
    let stats = { tests: 0, passes: 0, failures: 0, pending: 0 };
    try {
      stats = JSON.parse(readFileSync(statsFile, "utf8"));
    } catch {
      // mocha never reached its end event: it could not load the tier, which counts as a failure below.
    }
    results.push({ name, stats, status: child.status ?? 1, seconds: (Date.now() - started) / 1000 });
  }
} finally {
  rmSync(statsDir, { recursive: true, force: true });
}

let passed = 0;
let failed = 0;
let skipped = 0;
console.log("\n=== summary");
for (const { name, stats, status, seconds } of results) {
  const problems = [];
  if (stats.tests === 0) problems.push("ran no test");
  if (status !== 0 && stats.failures === 0) problems.push(`mocha exited with ${status}`);
  passed += stats.passes;
  failed += stats.failures + (problems.length > 0 ? 1 : 0);
  skipped += stats.pending;
  const note = problems.length > 0 ? `  FAILED: ${problems.join(", ")}` : "";
  console.log(`${name.padEnd(8)} ${stats.passes} passed, ${stats.failures} failed, ${stats.pending} skipped in ${seconds.toFixed(1)}s${note}`);
  for (const { title, message } of stats.failedTests ?? []) {
    console.log(`  ✗ ${title}\n    ${message.replaceAll("\n", "\n    ")}`);
  }
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
