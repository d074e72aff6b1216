// The fuzz tier's longer run: the service tier's fuzz test (test/service/fuzz.test.ts: random and
// hostile bodies, headers, URLs and uploads against a running service; no 5xx, every request in
// bounded time, /healthz still answering) with more rounds and a new seed each run. CI runs it with
// its fixed seed; a seed printed here reproduces a failure there with FUZZ_SEED.
//
//   npm run build && node assistant/bench/fuzz.mjs
//
// FUZZ_RUNS (5) runs of FUZZ_ROUNDS (400) rounds each; FUZZ_SEED sets the first run's seed (random).
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runs = Number(process.env.FUZZ_RUNS ?? 5);
const rounds = Number(process.env.FUZZ_ROUNDS ?? 400);
const firstSeed = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));

const results = [];
for (let run = 0; run < runs; run += 1) {
  const seed = firstSeed + run;
  console.log(`\n=== fuzz run ${run + 1} of ${runs}: FUZZ_SEED=${seed} FUZZ_ROUNDS=${rounds}`);
  const started = Date.now();
  const { status } = spawnSync(`${root}node_modules/.bin/mocha`, ["--timeout", "20000", "--exit", "assistant/dist/test/service/fuzz.test.js"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, FUZZ_SEED: String(seed), FUZZ_ROUNDS: String(rounds) },
  });
  results.push({ seed, ok: status === 0, seconds: (Date.now() - started) / 1000 });
}

console.log("\n=== fuzz summary");
for (const { seed, ok, seconds } of results) console.log(`seed ${seed}: ${ok ? "passed" : "FAILED"} in ${seconds.toFixed(0)} s`);
const failed = results.filter(({ ok }) => !ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
