/**
 * `npm run bench:lambda`: bundle size and local cold-load time of each kb-dr function,
 * beside a baseline bundle that only loads the same SDK clients and Powertools.
 *
 * Each function is bundled with esbuild the way KbFunction's NodejsFunction does (bundle
 * everything incl. the SDK from its ES builds, CJS, platform node, target = the synthesized runtime, minify,
 * tree-shaking, source maps without sources content). Cold load = wall time of a fresh `node`
 * process that requires the bundle (module-scope config, clients, Logger and Metrics included),
 * median of RUNS runs, variants interleaved so machine noise hits them alike. Figures are local
 * and relative: compare the columns, not the absolute milliseconds, with Lambda's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import {
  buildSidePackages,
  kbFunctionBuildOptions,
  sidePackagesOf,
} from '../lib/constructs/kb-function-bundling';
import { ENV } from '../lambda/shared/env';

const ROOT = path.resolve(__dirname, '..');
/** Every function: each folder under lambda/ with an index.ts (lambda/shared has none). */
const FUNCTION_DIRS = readdirSync(path.join(ROOT, 'lambda'))
  .filter((d) => existsSync(path.join(ROOT, 'lambda', d, 'index.ts')))
  .sort();
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

/** The Lambda runtime KbFunction uses (e.g. nodejs24.x), read from the synthesized template. */
async function synthesizedRuntime(): Promise<string> {
  const { Template } = await import('aws-cdk-lib/assertions');
  const { buildTestApp } = await import('../harness/app');
  const { operations } = buildTestApp({ 'aws:cdk:bundling-stacks': [] }, {});
  const fns = Object.values(Template.fromStack(operations).findResources('AWS::Lambda::Function'));
  const runtimes = new Set(fns.map((f) => String((f.Properties as { Runtime: string }).Runtime)));
  if (runtimes.size !== 1) throw new Error(`expected one runtime, got ${[...runtimes].join(', ')}`);
  return [...runtimes][0]!;
}

interface Variant {
  readonly label: string;
  readonly entry: string;
  readonly outfile: string;
  /** Packages KbFunction ships beside this bundle (kb-function-bundling.ts sidePackagesOf). */
  readonly sidePackages?: readonly string[];
}

function bundle(entry: string, outfile: string, target: string, sidePackages: readonly string[] = []): void {
  buildSidePackages(sidePackages, path.dirname(outfile));
  buildSync({
    ...kbFunctionBuildOptions(sidePackages),
    target,
    entryPoints: [entry],
    outfile,
    // The baseline entry lives in a temp dir: resolve packages from the project.
    nodePaths: [path.join(ROOT, 'node_modules')],
  });
}

const CHILD_ENV = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_SERVICE_NAME: 'kb-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'KB',
  [ENV.dbInstanceId]: 'kb-prod',
  [ENV.backupBucket]: 'kb-bench-bucket',
  [ENV.exportRoleArn]: 'arn:aws:iam::123456789012:role/kb-dr-export',
  [ENV.kmsKeyArn]: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  NODE_NO_WARNINGS: '1',
};

function coldLoadMs(file: string): number {
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], {
    env: CHILD_ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`loading ${file} failed: ${res.stderr.toString()}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const runtime = await synthesizedRuntime();
  const target = runtime.replace(/^nodejs(\d+)\.x$/, 'node$1');
  const dir = mkdtempSync(path.join(tmpdir(), 'kb-bench-lambda-'));
  try {
    mkdirSync(dir, { recursive: true });
    const baselineEntry = path.join(dir, 'baseline.ts');
    // Same SDK clients and Powertools, created at module scope like the handlers, and nothing else.
    writeFileSync(
      baselineEntry,
      [
        `import { Logger } from '@aws-lambda-powertools/logger';`,
        `import { Metrics } from '@aws-lambda-powertools/metrics';`,
        `import { RDSClient } from '@aws-sdk/client-rds';`,
        `import { S3Client } from '@aws-sdk/client-s3';`,
        `const clients = [new RDSClient({}), new S3Client({})];`,
        `const logger = new Logger({ serviceName: 'kb-bench' });`,
        `const metrics = new Metrics({ namespace: 'KB', serviceName: 'kb-bench' });`,
        `export const handler = async () => ({ clients: clients.length, logger: !!logger, metrics: !!metrics });`,
      ].join('\n'),
    );
    // The same plus zod (the shared manifest schema uses it), to attribute the difference.
    const zodEntry = path.join(dir, 'baseline-zod.ts');
    writeFileSync(
      zodEntry,
      [
        `import { z } from 'zod';`,
        `export * from './baseline';`,
        `export const schema = z.strictObject({ id: z.string().min(1), at: z.iso.datetime({ offset: true }) });`,
      ].join('\n'),
    );
    const variants: Variant[] = [
      {
        label: 'baseline (RDS+S3 clients, Logger, Metrics)',
        entry: baselineEntry,
        outfile: path.join(dir, 'baseline', 'index.js'),
      },
      { label: 'baseline + zod', entry: zodEntry, outfile: path.join(dir, 'baseline-zod', 'index.js') },
      // Every deployed function, bundled exactly as KbFunction bundles it.
      ...FUNCTION_DIRS.map((fn) => ({
        label: fn,
        entry: path.join(ROOT, 'lambda', fn, 'index.ts'),
        outfile: path.join(dir, fn, 'index.js'),
        sidePackages: sidePackagesOf(fn),
      })),
    ];
    for (const v of variants) bundle(v.entry, v.outfile, target, v.sidePackages);
    const nodeOnly = path.join(dir, 'empty.js');
    writeFileSync(nodeOnly, '');

    // Warm the page cache, then interleave the runs.
    for (const v of variants) coldLoadMs(v.outfile);
    const times = new Map<string, number[]>([
      ...variants.map((v) => [v.label, []] as [string, number[]]),
      ['node (empty file)', []],
    ]);
    for (let i = 0; i < RUNS; i += 1) {
      times.get('node (empty file)')!.push(coldLoadMs(nodeOnly));
      for (const v of variants) times.get(v.label)!.push(coldLoadMs(v.outfile));
    }

    const base = median(times.get(variants[0]!.label)!);
    const rows = [
      ['bundle', 'size (KiB)', 'cold load median (ms)', 'vs baseline'],
      ['node (empty file)', '-', median(times.get('node (empty file)')!).toFixed(0), '-'],
      ...variants.map((v) => {
        const m = median(times.get(v.label)!);
        return [
          v.label,
          (statSync(v.outfile).size / 1024).toFixed(0),
          m.toFixed(0),
          v === variants[0]
            ? '1.00x'
            : `${(m / base).toFixed(2)}x (${m >= base ? '+' : '-'}${Math.abs(m - base).toFixed(0)} ms)`,
        ];
      }),
    ];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    console.log(
      `esbuild target ${target} (runtime ${runtime}), minify, tree-shaking, source maps; ${RUNS} runs each, median`,
    );
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
