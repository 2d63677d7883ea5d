/**
 * Jest globalSetup: names the folder where workers record the PostgreSQL clusters and moto
 * servers they start (test/support/shared-services.ts), so test/global-teardown.ts stops them all;
 * gives the run a temp folder of its own (TMPDIR), which test/global-teardown.ts removes; and puts
 * PostgreSQL's client programs themselves in front of the PATH.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverTmpdir } from '../harness/cluster-root';
import { directClientFolder } from './support/pg-client-path';
import { SERVICES_ENV } from './support/shared-services';

/** The run's own temp folder, which the workers and what they start see as TMPDIR. */
export const RUN_TMPDIR_ENV = 'KB_JEST_TMPDIR';

export default function globalSetup(): void {
  // Workers are started after this and inherit these variables (a file run in band shares them).
  process.env[SERVICES_ENV] = mkdtempSync(join(tmpdir(), 'kb-jest-services-'));
  // What the tests and the programs they run leave in the temp folder (cdk.out folders of every
  // synthesis, fake machines, bundles, a killed process's files) goes with the run, not into the
  // developer's /tmp run after run. Node's os.tmpdir() and mkdtemp(1) read TMPDIR.
  // Under a folder the clusters' server user can reach (not a root's 0700 TMPDIR), and as /tmp
  // itself (mkdtemp makes it 0700): that user reads and writes here too (test CA, fake programs).
  const parent = serverTmpdir();
  if (parent !== tmpdir()) {
    console.warn(
      `kb-dr tests: TMPDIR ${tmpdir()} is not reachable by the postgres user the test clusters run as (it or a folder above it lacks o+x), so the run's temp folder goes under ${parent}`,
    );
  }
  const runTmp = mkdtempSync(join(parent, 'kb-jest-tmp-'));
  chmodSync(runTmp, 0o1777);
  process.env[RUN_TMPDIR_ENV] = runTmp;
  process.env.TMPDIR = runTmp;
  // PostgreSQL's client programs by name without Debian's pg_wrapper in between (see the module).
  // Found once here: looking them up costs each test file a pg_config (itself a wrapper) and a
  // pg_dump --version.
  const directClients = directClientFolder();
  if (directClients && !(process.env.PATH ?? '').startsWith(`${directClients}:`)) {
    process.env.PATH = `${directClients}:${process.env.PATH ?? ''}`;
  }
}
