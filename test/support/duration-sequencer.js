/**
 * Jest test sequencer: the slowest files first, so the last minutes of a run are not one long file
 * on one worker while the other idles.
 *
 * Jest's own sequencer already orders by the durations it cached from earlier runs on this machine;
 * on a fresh checkout (CI) it has none and falls back to file size, which puts small but slow
 * process-driven files last. This one falls back to test/support/test-durations.json instead: the
 * seconds each file took in a full run (refresh it with `node test/support/duration-sequencer.js
 * .jest/results.json` after `npm run test:unit`). Files in neither go after the known ones, by size.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const ROOT = join(__dirname, '..', '..');
const TABLE = join(__dirname, 'test-durations.json');

function readTable() {
  try {
    return JSON.parse(readFileSync(TABLE, 'utf8'));
  } catch {
    return {};
  }
}

class DurationSequencer extends Sequencer {
  constructor(...args) {
    super(...args);
    this.table = readTable();
  }

  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const seconds = this.table[relative(ROOT, test.path)];
    return typeof seconds === 'number' ? seconds * 1000 : undefined;
  }
}

module.exports = DurationSequencer;

// `node test/support/duration-sequencer.js RESULTS.json`: rewrite the table from a `jest --json` run.
if (require.main === module) {
  const results = JSON.parse(readFileSync(process.argv[2] ?? join(ROOT, '.jest', 'results.json'), 'utf8'));
  const table = Object.fromEntries(
    results.testResults
      .map((r) => [relative(ROOT, r.name), Math.round((r.endTime - r.startTime) / 100) / 10])
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  writeFileSync(TABLE, `${JSON.stringify(table, null, 2)}\n`);
  console.log(`wrote ${Object.keys(table).length} file durations to ${relative(ROOT, TABLE)}`);
}
