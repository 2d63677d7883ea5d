/**
 * Cold load of each kb-dr function against a bare require of the SDK clients it uses (issue 15,
 * target: at most 1.05x), and what `--enable-source-maps` costs at load and on an error path.
 *
 * Each function is bundled with esbuild as KbFunction's NodejsFunction bundles it (everything
 * bundled incl. the SDK, CJS, platform node, the runtime as target, minify, tree-shaking, source
 * maps without sources content). Its baseline is a bundle, built the same way, that requires the
 * same `@aws-sdk/client-*` packages (read from the function bundle's metafile) and creates one
 * client of each at module scope, as the handlers do, and nothing else.
 *
 * Cold load = a fresh `node` process that requires the bundle and exits, measured two ways: its
 * CPU time (user + system, read by the child itself at exit) and its wall time. The ratio judged
 * is the CPU time's: on this shared 2-core machine the wall time mostly measures how long the
 * child waited for a core (its spread under load is larger than the difference being measured),
 * while CPU time is the work the bundle costs, which is what a Lambda init spends. Both are shown.
 * The function and its baseline run side by side, alternating, after one warm-up round each, and
 * the ratio is of the medians (at least 3 runs).
 *
 * `coldLoadBench` is `npm run bench`'s module; run this file on its own for the same rows plus the
 * source-map figures: `npx tsx bench/function-cold-load.ts [function ...] [--no-source-maps]`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import { ENV } from '../lambda/shared/env';
import { VERIFY_ENV } from '../lambda/shared/verify-settings';
import { median, type BenchModule, type BenchRow as TableRow } from './measure';

const ROOT = path.resolve(__dirname, '..');
/** KbFunction's runtime (lib/constructs/kb-function.ts: NODEJS_24_X) as an esbuild target. */
const TARGET = 'node24';
/** The issue's target: a function's cold load over its SDK clients' bare load. */
export const COLD_LOAD_TARGET = 1.05;

/** One measured ratio (the standalone run prints these; `coldLoadBench` turns them into table rows). */
export interface BenchRow {
  readonly name: string;
  readonly ratio: number;
  /** The ratio must be at most this. */
  readonly target: number;
  readonly detail: string;
}

export interface ColdLoadOptions {
  /** Runs per variant (median); at least 3. @default BENCH_COLD_RUNS, else BENCH_RUNS, else 7 */
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
  // Verification configured with a secret, so verify-restore creates its Secrets Manager client
  // at load as its baseline does (not-configured would skip it and flatter the function).
  [VERIFY_ENV.mode]: 'secret',
  [VERIFY_ENV.secretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kb-verify-AbCdEf',
  NODE_NO_WARNINGS: '1',
};

/** One cold load: wall time seen by the parent, CPU time (user + system) the child reports at exit. */
export interface ColdRun {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * The child reports its CPU time on fd 3 from an exit hook, so the measurement touches neither
 * stdout nor stderr (initialising either stream costs a few ms, and the baseline must not pay
 * for what the function does or the other way round).
 */
const REPORT_CPU = `process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').writeSync(3, String((u.user + u.system) / 1000)); });`;

/** A fresh node running `script`, with `nodeOptions` in NODE_OPTIONS. */
function childRun(script: string, nodeOptions = ''): ColdRun {
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, ['-e', `${REPORT_CPU}\n${script}`], {
    env: { ...CHILD_ENV, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const cpuMs = Number(String(res.output[3] ?? ''));
  if (res.status !== 0 || !Number.isFinite(cpuMs) || cpuMs <= 0)
    throw new Error(`bench child failed (exit ${res.status}): ${script}\n${String(res.stderr)}`);
  return { wallMs, cpuMs };
}

const requireScript = (file: string) => `require(${JSON.stringify(file)});`;

/**
 * Require the bundle, then call its handler with an invalid event and read the stack of what it
 * throws or answers (with source maps on, this is where stack frames are mapped).
 */
const errorPathScript = (file: string) =>
  `const m = require(${JSON.stringify(file)});
   Promise.resolve().then(() => m.handler({ kbBenchUnknownField: 1 }, {}))
     .then((r) => { void JSON.stringify(r); void new Error('bench').stack; },
           (e) => { void String(e && e.stack); });`;

/** Medians of each variant's wall and CPU times, run alternately `runs` times after one warm-up round. */
function alternate(variants: readonly (() => ColdRun)[], runs: number): ColdRun[] {
  for (const v of variants) v();
  const times = variants.map(() => [] as ColdRun[]);
  for (let i = 0; i < runs; i += 1) variants.forEach((v, j) => times[j]!.push(v()));
  return times.map((t) => ({ wallMs: median(t.map((r) => r.wallMs)), cpuMs: median(t.map((r) => r.cpuMs)) }));
}

interface Built {
  readonly fn: string;
  readonly file: string;
  readonly baseline: string;
  readonly clients: readonly string[];
  readonly kib: number;
  readonly baselineKib: number;
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
    return {
      fn,
      file,
      baseline,
      clients,
      kib: statSync(file).size / 1024,
      baselineKib: statSync(baseline).size / 1024,
    };
  });
}

function runsOf(opts: ColdLoadOptions): number {
  return Math.max(3, opts.runs ?? Number(process.env.BENCH_COLD_RUNS ?? process.env.BENCH_RUNS ?? 7));
}

/** Cold-load rows: one per function, ratio = median CPU time (function) / median CPU time (its SDK clients). */
export function functionColdLoadRows(opts: ColdLoadOptions = {}): BenchRow[] {
  const runs = runsOf(opts);
  const dir = mkdtempSync(path.join(tmpdir(), 'kb-bench-cold-'));
  try {
    mkdirSync(dir, { recursive: true });
    return buildAll(dir, opts.functions ?? functionDirs()).map((b) => {
      const [fn, base] = alternate(
        [() => childRun(requireScript(b.file)), () => childRun(requireScript(b.baseline))],
        runs,
      );
      return {
        name: `cold load: ${b.fn}`,
        ratio: fn!.cpuMs / base!.cpuMs,
        target: COLD_LOAD_TARGET,
        detail:
          `CPU ${fn!.cpuMs.toFixed(0)} ms vs ${base!.cpuMs.toFixed(0)} ms requiring ${b.clients.join('+')} ` +
          `(wall ${fn!.wallMs.toFixed(0)} vs ${base!.wallMs.toFixed(0)} ms, ${(fn!.wallMs / base!.wallMs).toFixed(2)}x); ` +
          `bundle ${b.kib.toFixed(0)} KiB vs ${b.baselineKib.toFixed(0)} KiB; median of ${runs}, alternating`,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What --enable-source-maps costs: CPU-time ratios with/without, at load and on an invalid-event error path. */
export function sourceMapRows(opts: ColdLoadOptions = {}): BenchRow[] {
  const runs = runsOf(opts);
  const dir = mkdtempSync(path.join(tmpdir(), 'kb-bench-srcmap-'));
  try {
    return buildAll(dir, opts.functions ?? functionDirs()).flatMap((b) => {
      const [loadOn, loadOff, errOn, errOff] = alternate(
        [
          () => childRun(requireScript(b.file), '--enable-source-maps'),
          () => childRun(requireScript(b.file)),
          () => childRun(errorPathScript(b.file), '--enable-source-maps'),
          () => childRun(errorPathScript(b.file)),
        ],
        runs,
      );
      const figures = (on: ColdRun, off: ColdRun) =>
        `CPU ${on.cpuMs.toFixed(0)} ms with vs ${off.cpuMs.toFixed(0)} ms without (wall ${on.wallMs.toFixed(0)} vs ${off.wallMs.toFixed(0)} ms); median of ${runs}`;
      return [
        {
          name: `source maps at load: ${b.fn}`,
          ratio: loadOn!.cpuMs / loadOff!.cpuMs,
          target: 1,
          detail: `require only: ${figures(loadOn!, loadOff!)}`,
        },
        {
          name: `source maps on an error path: ${b.fn}`,
          ratio: errOn!.cpuMs / errOff!.cpuMs,
          target: 1,
          detail: `require + handler(invalid event) + stack: ${figures(errOn!, errOff!)}`,
        },
      ];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench`'s "function cold load" rows: one per function, beside the bare require of its SDK clients. */
export const coldLoadBench: BenchModule = {
  name: 'function cold load',
  run: async (): Promise<TableRow[]> =>
    functionColdLoadRows().map((r) => ({
      area: 'function cold load',
      what: `${r.name.replace(/^cold load: /, '')} vs a bare require of its SDK clients (CPU time)`,
      measured: r.detail,
      value: r.ratio,
      target: `<= ${COLD_LOAD_TARGET.toFixed(2)}x`,
      ok: r.ratio <= COLD_LOAD_TARGET,
    })),
};

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
  const load = loadavg();
  console.log(
    `function cold load, esbuild target ${TARGET} bundles as KbFunction builds them; ${new Date().toISOString()}; ${cpus().length} CPUs, load average ${load.map((l) => l.toFixed(1)).join(' ')}`,
  );
  printRows(functionColdLoadRows(opts));
  if (!process.argv.includes('--no-source-maps')) printRows(sourceMapRows(opts));
}
