/**
 * Jest globalTeardown: stops every PostgreSQL cluster and moto server the workers started
 * (test/support/shared-services.ts) and removes their folders, then the run's temp folder
 * (test/global-setup.ts), and prunes the V8 code cache (test/support/code-cache-prune.js).
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_TMPDIR_ENV } from './global-setup';
import { SERVICES_ENV, type ServiceRecord } from './support/shared-services';

// The jest runtime's V8 code cache (plain JS: jest loads the runtime itself).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { pruneCodeCache } = require('./support/code-cache-prune') as { pruneCodeCache: () => string[] };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopPid(pid: number, signal: NodeJS.Signals): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, signal);
  for (let i = 0; i < 100 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export default async function globalTeardown(): Promise<void> {
  await stopServices();
  const runTmp = process.env[RUN_TMPDIR_ENV];
  if (runTmp) rmSync(runTmp, { recursive: true, force: true });
  pruneCodeCache();
}

async function stopServices(): Promise<void> {
  const registry = process.env[SERVICES_ENV];
  if (!registry || !existsSync(registry)) return;
  const records = readdirSync(registry)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(registry, f), 'utf8')) as ServiceRecord);
  await Promise.all(
    records.map(async (r) => {
      if (r.kind === 'moto') return stopPid(r.pid, 'SIGTERM');
      const pidFile = join(r.dir, 'data', 'postmaster.pid');
      // SIGQUIT: immediate shutdown of this postmaster only, as harness/postgres.ts stops it.
      if (existsSync(pidFile)) await stopPid(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGQUIT');
      rmSync(r.dir, { recursive: true, force: true });
    }),
  );
  rmSync(registry, { recursive: true, force: true });
}
