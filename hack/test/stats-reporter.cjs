// Mocha's spec reporter, which also writes the run's totals to the JSON file named by
// AIA_TEST_STATS, so run-tiers.mjs can refuse a tier that ran no test.
const { writeFileSync } = require("node:fs");
const Mocha = require("mocha");

const { EVENT_RUN_END } = Mocha.Runner.constants;

class StatsReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const file = process.env.AIA_TEST_STATS;
      if (file) writeFileSync(file, JSON.stringify(runner.stats));
    });
  }
}

module.exports = StatsReporter;
