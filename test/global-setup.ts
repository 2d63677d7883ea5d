/**
 * Jest globalSetup: names the folder where workers record the PostgreSQL clusters and moto
 * servers they start (test/support/shared-services.ts), so test/global-teardown.ts stops them all,
 * and puts PostgreSQL's client programs themselves in front of the PATH.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directClientFolder } from './support/pg-client-path';
import { SERVICES_ENV } from './support/shared-services';

export default function globalSetup(): void {
  // Workers are started after this and inherit these variables (a file run in band shares them).
  process.env[SERVICES_ENV] = mkdtempSync(join(tmpdir(), 'kb-jest-services-'));
  // PostgreSQL's client programs by name without Debian's pg_wrapper in between (see the module).
  // Found once here: looking them up costs each test file a pg_config (itself a wrapper) and a
  // pg_dump --version.
  const directClients = directClientFolder();
  if (directClients && !(process.env.PATH ?? '').startsWith(`${directClients}:`)) {
    process.env.PATH = `${directClients}:${process.env.PATH ?? ''}`;
  }
}
