/**
 * Cold load of each kb-dr function against a bare require of the SDK clients it uses (issue 15,
 * target: at most 1.05x), and what `--enable-source-maps` (KbFunction's NODE_OPTIONS) costs at load
 * and on an error path.
 *
 * Each function is bundled with esbuild as KbFunction's NodejsFunction bundles it (everything
 * bundled incl. the SDK, CJS, platform node, the synthesized runtime as target, minify,
 * tree-shaking, source maps without sources content). Its baseline is a bundle, built the same
 * way, that requires the same `@aws-sdk/client-*` packages (read from the function bundle's
 * metafile) and creates one client of each at module scope, as the handlers do, and nothing else.
 * Cold load = wall time of a fresh `node` process that requires the bundle. The function and its
 * baseline run side by side, alternating, and the ratio is of the medians (RUNS >= 3).
 *
 * `functionColdLoadRows()` returns rows for `npm run bench`'s table; run this file on its own for
 * the same rows plus the source-map figures: `npx tsx bench/function-cold-load.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { ENV } from '../lambda/shared/env';

const ROOT = path.resolve(__dirname, '..');
/** KbFunction's runtime (lib/constructs/kb-function.ts: NODEJS_24_X) as an esbuild target. */
const TARGET = 'node24';
/** The issue's target: a function's cold load over its SDK clients' bare load. */
export const COLD_LOAD_TARGET = 1.05;

/** One row of `npm run bench`'s table. */
export interface BenchRow {
  readonly name: string;
  readonly ratio: number;
  /** The ratio must be at most this. */
  readonly target: number;
  readonly detail: string;
}

export interface ColdLoadOptions {
  /** Runs per variant (median); at least 3. @default BENCH_RUNS or 7 */
  readonly runs?: number;
  /** Only these function folders. @default every folder under lambda/ with an index.ts */
  readonly functions?: readonly string[];
}

/** Every function: each folder under lambda/ with an index.ts (lambda/shared has none). */
export function functionDirs(): string[] {
  return readdirSync(path.join(ROOT, 'lambda'))
    .filter((d) => existsSync(path.join(ROOT, 'lambda', d, 'index.ts')))
    .sort();
}

/** Bundle `entry` with KbFunction's esbuild options; returns the bundle's metafile. */
export function bundleLikeKbFunction(entry: string, outfile: string): Metafile {
  const result = buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: TARGET,
    minify: true,
    treeShaking: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'error',
    metafile: true,
    absWorkingDir: ROOT,
    // Baseline entries live in a temp dir: resolve packages from the project.
    nodePaths: [path.join(ROOT, 'node_modules')],
  });
  return result.metafile;
}

/** The `@aws-sdk/client-*` packages whose code is in a bundle's output (after tree-shaking). */
export function sdkClientsOf(meta: Metafile): string[] {
  const found = new Set<string>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//.exec(input);
      if (m && bytesInOutput > 0) found.add(m[1]!);
    }
  }
  return [...found].sort();
}

/** The exported client class of `@aws-sdk/client-<name>`, e.g. client-rds -> RDSClient. */
function clientClass(pkg: string): string {
  const known: Record<string, string> = {
    'client-rds': 'RDSClient',
    'client-s3': 'S3Client',
    'client-cloudwatch': 'CloudWatchClient',
    'client-lambda': 'LambdaClient',
    'client-secrets-manager': 'SecretsManagerClient',
  };
  const cls = known[pkg];
  if (!cls) throw new Error(`bench: no client class known for @aws-sdk/${pkg}; add it to clientClass()`);
  return cls;
}

/** Environment of the child processes: every setting the handlers read at load, no real endpoint. */
const CHILD_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  // Nothing here should reach AWS; if anything did, it fails at once on loopback.
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  POWERTOOLS_SERVICE_NAME: 'kb-bench',
  POWERTOOLS_METRICS_NAMESPACE: 'KB',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  [ENV.dbInstanceId]: 'kb-prod',
  [ENV.backupBucket]: 'kb-bench-bucket',
  [ENV.exportRoleArn]: 'arn:aws:iam::123456789012:role/kb-dr-export',
  [ENV.kmsKeyArn]: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  [ENV.productionInstanceIds]: 'kb-prod',
  NODE_NO_WARNINGS: '1',
};

/** Wall time (ms) of a fresh node running `script`, with `nodeOptions` in NODE_OPTIONS. */
function childMs(script: string, nodeOptions = ''): number {
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, ['-e', script], {
    env: { ...CHILD_ENV, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`bench child failed: ${script}\n${res.stderr.toString()}`);
  return ms;
}

const requireScript = (file: string) => `require(${JSON.stringify(file)})`;

/**
 * Require the bundle, then call its handler with an invalid event and read the stack of what it
 * throws or answers (with source maps on, this is where stack frames are mapped).
 */
const errorPathScript = (file: string) =>
  `const m = require(${JSON.stringify(file)});
   Promise.resolve().then(() => m.handler({ kbBenchUnknownField: 1 }, {}))
     .then((r) => { void JSON.stringify(r); void new Error('bench').stack; },
           (e) => { void String(e && e.stack); });`;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median times of `variants`, run alternately `runs` times after one warm-up round. */
function alternate(variants: readonly (() => number)[], runs: number): number[] {
  for (const v of variants) v();
  const times = variants.map(() => [] as number[]);
  for (let i = 0; i < runs; i += 1) variants.forEach((v, j) => times[j]!.push(v()));
  return times.map(median);
}

interface Built {
  readonly fn: string;
  readonly file: string;
  readonly baseline: string;
  readonly clients: readonly string[];
  readonly kib: number;
}

function buildAll(dir: string, fns: readonly string[]): Built[] {
  return fns.map((fn) => {
    const file = path.join(dir, fn, 'index.js');
    const meta = bundleLikeKbFunction(path.join(ROOT, 'lambda', fn, 'index.ts'), file);
    const clients = sdkClientsOf(meta);
    const entry = path.join(dir, `baseline-${fn}.ts`);
    writeFileSync(
      entry,
      [
        ...clients.map((c) => `import { ${clientClass(c)} } from '@aws-sdk/${c}';`),
        `export const clients = [${clients.map((c) => `new ${clientClass(c)}({})`).join(', ')}];`,
      ].join('\n'),
    );
    const baseline = path.join(dir, `baseline-${fn}`, 'index.js');
    bundleLikeKbFunction(entry, baseline);
    return { fn, file, baseline, clients, kib: statSync(file).size / 1024 };
  });
}

/** Cold-load rows: one per function, ratio = median(function) / median(its SDK clients' bare load). */
export function functionColdLoadRows(opts: ColdLoadOptions = {}): BenchRow[] {
  const runs = Math.max(3, opts.runs ?? Number(process.env.BENCH_RUNS ?? 7));
  const dir = mkdtempSync(path.join(tmpdir(), 'kb-bench-cold-'));
  try {
    mkdirSync(dir, { recursive: true });
    return buildAll(dir, opts.functions ?? functionDirs()).map((b) => {
      const [fnMs, baseMs] = alternate(
        [() => childMs(requireScript(b.file)), () => childMs(requireScript(b.baseline))],
        runs,
      );
      return {
        name: `cold load: ${b.fn}`,
        ratio: fnMs! / baseMs!,
        target: COLD_LOAD_TARGET,
        detail: `${fnMs!.toFixed(0)} ms vs ${baseMs!.toFixed(0)} ms requiring ${b.clients.join('+')}; bundle ${b.kib.toFixed(0)} KiB; median of ${runs}, alternating`,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What --enable-source-maps costs: ratios with/without, at load and on an invalid-event error path. */
export function sourceMapRows(opts: ColdLoadOptions = {}): BenchRow[] {
  const runs = Math.max(3, opts.runs ?? Number(process.env.BENCH_RUNS ?? 7));
  const dir = mkdtempSync(path.join(tmpdir(), 'kb-bench-srcmap-'));
  try {
    return buildAll(dir, opts.functions ?? functionDirs()).flatMap((b) => {
      const [loadOn, loadOff, errOn, errOff] = alternate(
        [
          () => childMs(requireScript(b.file), '--enable-source-maps'),
          () => childMs(requireScript(b.file)),
          () => childMs(errorPathScript(b.file), '--enable-source-maps'),
          () => childMs(errorPathScript(b.file)),
        ],
        runs,
      );
      return [
        {
          name: `source maps at load: ${b.fn}`,
          ratio: loadOn! / loadOff!,
          target: 1,
          detail: `${loadOn!.toFixed(0)} ms with --enable-source-maps vs ${loadOff!.toFixed(0)} ms without; median of ${runs}`,
        },
        {
          name: `source maps on an error path: ${b.fn}`,
          ratio: errOn! / errOff!,
          target: 1,
          detail: `load + handler(invalid event) + stack: ${errOn!.toFixed(0)} ms with vs ${errOff!.toFixed(0)} ms without; median of ${runs}`,
        },
      ];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Print rows as a plain table. */
export function printRows(rows: readonly BenchRow[]): void {
  const table = [
    ['measure', 'ratio', 'target', 'ok', 'detail'],
    ...rows.map((r) => [
      r.name,
      `${r.ratio.toFixed(2)}x`,
      `<= ${r.target.toFixed(2)}x`,
      r.ratio <= r.target ? 'yes' : 'NO',
      r.detail,
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const r of table)
    console.log(
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    );
}

if (require.main === module) {
  const functions = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const opts: ColdLoadOptions = functions.length ? { functions } : {};
  console.log(
    `function cold load, esbuild target ${TARGET} bundles as KbFunction builds them; ${new Date().toISOString()}`,
  );
  printRows(functionColdLoadRows(opts));
  if (!process.argv.includes('--no-source-maps')) printRows(sourceMapRows(opts));
}
