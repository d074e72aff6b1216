// Mocha's spec reporter, which also writes the run's totals and its failures to the JSON file
// named by AIA_TEST_STATS, so run-tiers.mjs can refuse a tier that ran no test and repeat each
// failure in its closing summary (CI logs are often read from their tail).
const { writeFileSync } = require("node:fs");
const Mocha = require("mocha");

const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class StatsReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const failures = [];
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      const message = String(err?.message ?? err).split("\n").slice(0, 6).join("\n");
      failures.push({ title: test.fullTitle(), message });
    });
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.AIA_TEST_STATS;
      if (file) writeFileSync(file, JSON.stringify({ ...runner.stats, failedTests: failures }));
    });
  }
}

module.exports = StatsReporter;
