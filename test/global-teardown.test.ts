/**
 * The run's temp folder (global-setup.ts sets TMPDIR to it for the workers) goes with the run:
 * globalTeardown removes it and everything in it, and nothing else.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
