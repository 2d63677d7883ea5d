/**
 * Issue 15, cold start as a user sees it: init plus the first invocation, for the functions whose
 * load moved work to first use (bench/function-cold-load.ts measures the load alone).
 * Init + first invocation: a fresh node requires a function's bundle and calls its handler once with
 * one event; CPU time of the whole process (start-up to exit), this checkout's bundle against
 * another checkout's, alternating, paired per round. Usage:
 *   npx tsx bench/function-first-invocation.ts <other checkout> [rounds, default 21]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../lambda/shared/clients';
import { bundleLikeKbFunction } from '../bench/function-cold-load';
import { sidePackagesOf } from '../lib/constructs/kb-function-bundling';
import { startMoto } from '../harness/moto';
import { median } from '../bench/measure';

const ROOT = path.resolve(__dirname, '..');
const [other, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 21);
const CASES: { fn: string; label: string; event: unknown }[] = [
  { fn: 'backup', label: 'refused event', event: { bogus: 1 } },
  { fn: 'restore-test', label: 'refused event', event: { action: 'bogus' } },
  {
    fn: 'restore-test',
    label: 'periodic pass (moto)',
    event: { source: 'kb-dr.restore-test', action: 'pass' },
  },
  {
    fn: 'restore-test',
    label: 'RDS event, instance gone (moto)',
    event: {
      source: 'aws.rds',
      'detail-type': 'RDS DB Instance Event',
      detail: { EventID: 'RDS-EVENT-0008', SourceIdentifier: 'kb-restore-test-20261122-0300' },
    },
  },
  { fn: 'reconcile', label: 'periodic pass (moto)', event: {} },
];

async function main(): Promise<void> {
  if (!other) throw new Error('usage: npx tsx bench/function-first-invocation.ts <other checkout> [rounds]');
  const moto = await startMoto({ applyToProcessEnv: true });
  let dir: string | undefined;
  try {
    // The project's own S3 client, pointed at moto by the environment startMoto applies.
    const s3 = createS3Client();
    await s3.send(new CreateBucketCommand({ Bucket: 'kb-bench-bucket' }));
    const env = {
      PATH: process.env.PATH ?? '',
      ...moto.env,
      POWERTOOLS_SERVICE_NAME: 'kb-bench',
      POWERTOOLS_METRICS_NAMESPACE: 'KB',
      KB_DB_INSTANCE_ID: 'kb-prod',
      KB_BACKUP_BUCKET: 'kb-bench-bucket',
      KB_EXPORT_ROLE_ARN: 'arn:aws:iam::123456789012:role/kb-dr-export',
      KB_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      KB_PRODUCTION_INSTANCE_IDS: 'kb-prod',
      NODE_NO_WARNINGS: '1',
    };
    dir = mkdtempSync(path.join(tmpdir(), 'kb-first-inv-'));
    const built = new Map<string, [string, string]>();
    for (const fn of new Set(CASES.map((c) => c.fn))) {
      const mine = path.join(dir, 'new', fn, 'index.js');
      const theirs = path.join(dir, 'old', fn, 'index.js');
      bundleLikeKbFunction(path.join(ROOT, 'lambda', fn, 'index.ts'), mine, sidePackagesOf(fn));
      bundleLikeKbFunction(path.join(other, 'lambda', fn, 'index.ts'), theirs, sidePackagesOf(fn));
      built.set(fn, [mine, theirs]);
    }
    const run = (file: string, event: unknown): number => {
      const script = `process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').writeSync(3, String((u.user + u.system) / 1000)); });
        const m = require(${JSON.stringify(file)});
        m.handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 60000 }).catch(() => {});`;
      // stdout and stderr as pipes, as the Lambda runtime gives them
      const res = spawnSync(process.execPath, ['-e', script], {
        env,
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      });
      const ms = Number(String(res.output[3] ?? ''));
      if (!(ms > 0)) throw new Error(`child failed: ${String(res.stderr)}`);
      return ms;
    };
    console.log(
      `init + first invocation, CPU ms of the whole process, ${rounds} paired rounds; ${new Date().toISOString()}; load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    for (const c of CASES) {
      const [mine, theirs] = built.get(c.fn)!;
      run(mine, c.event);
      run(theirs, c.event);
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < rounds; i++) {
        if (i % 2) {
          b.push(run(theirs, c.event));
          a.push(run(mine, c.event));
        } else {
          a.push(run(mine, c.event));
          b.push(run(theirs, c.event));
        }
      }
      const ratios = a.map((x, i) => x / b[i]!);
      console.log(
        `${c.fn} ${c.label}: ${median(a).toFixed(0)} ms after vs ${median(b).toFixed(0)} ms before, paired ratio ${median(ratios).toFixed(3)}`,
      );
    }
    console.log(
      `load at end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}
void main();
