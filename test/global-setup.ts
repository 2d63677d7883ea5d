/**
 * Jest globalSetup: names the folder where workers record the PostgreSQL clusters and moto
 * servers they start (test/support/shared-services.ts), so test/global-teardown.ts stops them all.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICES_ENV } from './support/shared-services';

export default function globalSetup(): void {
  // Workers are started after this and inherit the variable.
  process.env[SERVICES_ENV] = mkdtempSync(join(tmpdir(), 'kb-jest-services-'));
}
