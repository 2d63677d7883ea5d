/**
 * The run's temp folder (global-setup.ts sets TMPDIR to it for the workers) goes with the run:
 * globalTeardown removes it and everything in it, and nothing else.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_TMPDIR_ENV } from './global-setup';
import globalTeardown from './global-teardown';
import { SERVICES_ENV } from './support/shared-services';

it("removes the run's temp folder with what the tests left in it, and leaves its neighbours", async () => {
  // Prepare: a stand-in run folder holding what tests leave (a cdk.out folder, a file), beside a
  // folder that is not the run's. The worker's own services are kept out of this call.
  const parent = mkdtempSync(join(tmpdir(), 'kb-teardown-test-'));
  const runTmp = join(parent, 'kb-jest-tmp-run');
  const neighbour = join(parent, 'kb-jest-tmp-other');
  mkdirSync(join(runTmp, 'cdk.outAbC123'), { recursive: true });
  writeFileSync(join(runTmp, 'cdk.outAbC123', 'manifest.json'), '{}');
  mkdirSync(neighbour);
  const saved = { run: process.env[RUN_TMPDIR_ENV], services: process.env[SERVICES_ENV] };
  process.env[RUN_TMPDIR_ENV] = runTmp;
  delete process.env[SERVICES_ENV];
  try {
    // Act
    await globalTeardown();
  } finally {
    if (saved.run === undefined) delete process.env[RUN_TMPDIR_ENV];
    else process.env[RUN_TMPDIR_ENV] = saved.run;
    if (saved.services !== undefined) process.env[SERVICES_ENV] = saved.services;
  }

  // Assess
  expect(existsSync(runTmp)).toBe(false);
  expect(existsSync(neighbour)).toBe(true);
  rmSync(parent, { recursive: true, force: true });
});

describe('pruneCodeCache (the V8 code cache the jest runtime keeps)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { pruneCodeCache } = require('./support/code-cache-prune') as {
    pruneCodeCache: (o: { root: string; version: string; now: number; maxAgeDays?: number }) => string[];
  };
  const DAY = 24 * 60 * 60 * 1000;
  const now = Date.now();
  const aged = (path: string, days: number, accessedDays = days) => {
    utimesSync(path, new Date(now - accessedDays * DAY), new Date(now - days * DAY));
  };

  it('removes entries neither read nor written for 14 days, old folders of other Node versions and stale temporary files; keeps the rest', () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 'kb-code-cache-'));
    const current = join(root, 'v20.20.2');
    const otherRecent = join(root, 'v22.1.0');
    const otherOld = join(root, 'v18.19.0');
    for (const d of [current, otherRecent, otherOld]) mkdirSync(d);
    const file = (name: string) => join(current, name);
    for (const f of ['fresh.bin', 'written-long-ago-read-today.bin', 'unused.bin', 'w.123.tmp', 'x.456.tmp'])
      writeFileSync(file(f), 'v8');
    aged(file('written-long-ago-read-today.bin'), 30, 0);
    aged(file('unused.bin'), 15);
    aged(file('w.123.tmp'), 0.5); // a killed worker's, 12 hours ago
    writeFileSync(join(otherOld, 'a.bin'), 'v8');
    aged(otherOld, 20);
    aged(otherRecent, 3);

    // Act
    const removed = pruneCodeCache({ root, version: 'v20.20.2', now });

    // Assess
    expect(removed.sort()).toEqual([file('unused.bin'), file('w.123.tmp'), otherOld].sort());
    expect(readdirSync(current).sort()).toEqual([
      'fresh.bin',
      'written-long-ago-read-today.bin',
      'x.456.tmp',
    ]);
    expect(readdirSync(root).sort()).toEqual(['v20.20.2', 'v22.1.0']);
    rmSync(root, { recursive: true, force: true });
  });

  it('does nothing when there is no cache yet', () => {
    expect(pruneCodeCache({ root: join(tmpdir(), 'kb-no-such-cache'), version: 'v20.20.2', now })).toEqual(
      [],
    );
  });
});
