/**
 * Cold load of each kb-dr function against a bare require of the SDK clients it uses (issue 15,
 * target: at most 1.05x), and what `--enable-source-maps` costs at load and on an error path.
 *
 * Each function is bundled with esbuild as KbFunction's NodejsFunction bundles it (everything
 * bundled incl. the SDK from its ES builds (`mainFields`, lib/constructs/kb-function-bundling.ts),
 * CJS, platform node, the runtime as target, minify, tree-shaking, source maps without sources
 * content; the packages KbFunction ships beside a function's main bundle, kb-function-bundling.ts
 * sidePackagesOf, go to their own files beside it here too). Its baseline is a bundle, built the
 * same way, that imports the same `@aws-sdk/client-*` packages and the same commands and
 * paginators of them (all read from the function bundle's metafile), creates one client of each at
 * module scope, and nothing else: the function's bundle
 * and the baseline carry the same SDK code, and the ratio is what the function adds to it. (Both
 * are tree-shaken from the SDK's ES builds, so a baseline of the bare clients would carry no
 * command and charge the function for the SDK code of the calls it makes; `sdkClientsOnly` in
 * the detail column is that ratio too.)
 *
 * Cold load = the evaluation of the bundle in a fresh `node`: the CPU time (user + system) and
 * wall time the child reads just before and just after its `require`, leaving out Node's own
 * start-up and exit, which are the same for both and would only pull the ratio towards 1. The ratio
 * judged is the CPU time's: on this shared 2-core machine the wall time mostly measures how long
 * the child waited for a core. The function and its baseline run in rounds, one run of each per
 * round, their order reversed every other round, after one warm-up round; each round gives one
 * ratio (its two runs saw the same load), and the figure is the median of those ratios, shown with
 * their interquartile range. 21 rounds by default. Measured at load averages of 6-9 on this 2-core
 * machine (backup against its baseline, 40 rounds): single-round ratios spread about +-0.08 (IQR),
 * the median of 10 rounds moved between 1.08 and 1.12 and that of 20 between 1.09 and 1.12, while
 * the ratio of medians moved as much and the ratio of minimums between 0.90 and 1.25. With
 * `--compare` on an unchanged function (the same bundle twice in one run, 21 rounds) the two
 * medians differed by up to 0.05: a difference smaller than that is not a result. Set
 * BENCH_COLD_RUNS higher to judge a function close to the target.
 *
 * `coldLoadBench` is `npm run bench -- --only coldload`; run this file on its own for the same rows
 * plus the source-map figures: `npx tsx bench/function-cold-load.ts [function ...] [--no-source-maps]
 * [--compare <other checkout>]` (`--compare` measures that checkout's functions in the same rounds,
 * for before/after figures taken under one machine state).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync, type Metafile } from 'esbuild';
import {
  buildSidePackages,
  KB_FUNCTION_TARGET,
  kbFunctionBuildOptions,
  sidePackagesOf,
} from '../lib/constructs/kb-function-bundling';
import { ENV } from '../lambda/shared/env';
import { VERIFY_ENV } from '../lambda/shared/verify-settings';
import { median, type BenchModule, type BenchRow as TableRow } from './measure';

const ROOT = path.resolve(__dirname, '..');
/** KbFunction's runtime (lib/constructs/kb-function.ts: NODEJS_24_X) as an esbuild target. */
const TARGET = KB_FUNCTION_TARGET;
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
  /** Rounds (one run of each variant each); at least 3. @default BENCH_COLD_RUNS, else BENCH_RUNS, else 21 */
  readonly runs?: number;
  /** Only these function folders. @default every folder under lambda/ with an index.ts */
  readonly functions?: readonly string[];
  /**
   * Another checkout of the project (e.g. a `git worktree` of main): its functions are bundled too
   * and measured in the same rounds against the same baseline, for before/after figures taken
   * under one machine state. @default none
   */
  readonly compareRoot?: string;
}

/** Every function: each folder under lambda/ with an index.ts (lambda/shared has none). */
export function functionDirs(): string[] {
  return readdirSync(path.join(ROOT, 'lambda'))
    .filter((d) => existsSync(path.join(ROOT, 'lambda', d, 'index.ts')))
    .sort();
}

/**
 * Bundle `entry` with KbFunction's esbuild options; returns the main bundle's metafile. With
 * `sidePackages` (kb-function-bundling.ts sidePackagesOf: what KbFunction ships beside that
 * function's main bundle), those stay out of the main bundle and each is bundled to its file
 * beside it by the same esbuild command KbFunction runs.
 */
export function bundleLikeKbFunction(
  entry: string,
  outfile: string,
  sidePackages: readonly string[] = [],
): Metafile {
  buildSidePackages(sidePackages, path.dirname(outfile));
  const result = buildSync({
    ...kbFunctionBuildOptions(sidePackages),
    entryPoints: [entry],
    outfile,
    metafile: true,
    // Baseline entries live in a temp dir: resolve packages from the project.
    nodePaths: [path.join(ROOT, 'node_modules')],
  });
  if (!result.metafile) throw new Error(`esbuild wrote no metafile for ${entry}`);
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

/**
 * The commands and paginators of each `@aws-sdk/client-*` package whose code is in a bundle's
 * output, by package, as the package exports them (e.g. client-rds -> DescribeDBInstancesCommand,
 * paginateDescribeDBInstances).
 */
export function sdkExportsOf(meta: Metafile): Map<string, string[]> {
  const found = new Map<string, Set<string>>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m =
        /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/(commands|pagination)\/(\w+)\.js$/.exec(input);
      if (!m || bytesInOutput === 0) continue;
      const name = m[2] === 'commands' ? m[3]! : /^(\w+)Paginator$/.exec(m[3]!)?.[1];
      if (!name || (m[2] === 'commands' && !name.endsWith('Command'))) continue;
      const exports = found.get(m[1]!) ?? new Set<string>();
      exports.add(m[2] === 'commands' ? name : `paginate${name}`);
      found.set(m[1]!, exports);
    }
  }
  return new Map([...found].map(([pkg, names]) => [pkg, [...names].sort()]));
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

/** One cold load: CPU and wall time of evaluating the bundle, read by the child around its `require`. */
export interface ColdRun {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * The child times only the evaluation of the bundle: CPU time (user + system, every thread of the
 * process: GC and compiler threads included) and wall time from just before its `require` to just
 * after it returns. Node's own start-up (about 40-70 ms of CPU here, the same for every bundle) and
 * its exit are left out: counted, they only dilute the ratio towards 1. The figures go to fd 3, so
 * the measurement touches neither stdout nor stderr (initialising either stream costs a few ms,
 * and the baseline must not pay for what the function does or the other way round).
 */
const timedRequire = (file: string) =>
  `const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
   require(${JSON.stringify(file)});
   const c = process.cpuUsage(c0), w = Number(process.hrtime.bigint() - t0) / 1e6;
   require('node:fs').writeSync(3, JSON.stringify({ cpuMs: (c.user + c.system) / 1000, wallMs: w }));`;

/** A fresh node evaluating `file`, with `nodeOptions` in NODE_OPTIONS. */
function childRun(file: string, nodeOptions = ''): ColdRun {
  const res = spawnSync(process.execPath, ['-e', timedRequire(file)], {
    env: { ...CHILD_ENV, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let run: ColdRun | undefined;
  try {
    run = JSON.parse(String(res.output[3] ?? '')) as ColdRun;
  } catch {
    // reported below
  }
  if (res.status !== 0 || !run || !(run.cpuMs > 0))
    throw new Error(`bench child failed (exit ${res.status}) requiring ${file}\n${String(res.stderr)}`);
  return run;
}

/**
 * Require the bundle, then call its handler with an invalid event and read the stack of what it
 * throws or answers (with source maps on, this is where stack frames are mapped). Timed whole
 * (start-up included) by the CPU time the child reads at exit.
 */
const errorPathScript = (file: string) =>
  `process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').writeSync(3, JSON.stringify({ cpuMs: (u.user + u.system) / 1000, wallMs: 0 })); });
   const m = require(${JSON.stringify(file)});
   Promise.resolve().then(() => m.handler({ kbBenchUnknownField: 1 }, {}))
     .then((r) => { void JSON.stringify(r); void new Error('bench').stack; },
           (e) => { void String(e && e.stack); });`;

function childScript(script: string, nodeOptions = ''): ColdRun {
  const res = spawnSync(process.execPath, ['-e', script], {
    env: { ...CHILD_ENV, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const run = JSON.parse(String(res.output[3] ?? '{}')) as Partial<ColdRun>;
  if (res.status !== 0 || !(Number(run.cpuMs) > 0))
    throw new Error(`bench child failed (exit ${res.status})\n${String(res.stderr)}`);
  return run as ColdRun;
}

/** The q-quantile (0..1) of `values`, interpolated between the nearest ranks. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

/**
 * Each variant's runs, taken in rounds after one warm-up round: every round runs every variant once,
 * in an order that reverses from one round to the next (A B C, C B A, ...), so neither a variant's
 * place in the round nor a drift of the machine's load favours one of them.
 */
export function alternate(variants: readonly (() => ColdRun)[], runs: number): ColdRun[][] {
  for (const v of variants) v();
  const times = variants.map(() => [] as ColdRun[]);
  for (let i = 0; i < runs; i += 1) {
    const order = variants.map((_, j) => j);
    if (i % 2) order.reverse();
    for (const j of order) times[j]!.push(variants[j]!());
  }
  return times;
}

/**
 * A ratio judged from paired runs: the runs of round i of the two variants were taken next to each
 * other, under the same load, so each round gives one ratio; the figure is their median, the spread
 * their interquartile range.
 */
export interface PairedRatio {
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
}

export function pairedRatio(
  a: readonly ColdRun[],
  b: readonly ColdRun[],
  key: keyof ColdRun = 'cpuMs',
): PairedRatio {
  const ratios = a.map((r, i) => r[key] / b[i]![key]);
  return { median: median(ratios), q1: quantile(ratios, 0.25), q3: quantile(ratios, 0.75) };
}

const fmt = (r: PairedRatio) => `${r.median.toFixed(3)}x (IQR ${r.q1.toFixed(2)}-${r.q3.toFixed(2)})`;

interface Built {
  readonly fn: string;
  readonly file: string;
  /** The same function bundled from `compareRoot`, when one was given. */
  readonly compareFile?: string;
  readonly compareKib?: number;
  readonly baseline: string;
  /** The bare clients (no command): what the function's calls cost in SDK code shows against it. */
  readonly clientsOnly: string;
  readonly clients: readonly string[];
  readonly kib: number;
  readonly baselineKib: number;
}

function buildAll(dir: string, fns: readonly string[], compareRoot?: string): Built[] {
  return fns.map((fn) => {
    const file = path.join(dir, fn, 'index.js');
    const meta = bundleLikeKbFunction(path.join(ROOT, 'lambda', fn, 'index.ts'), file, sidePackagesOf(fn));
    const clients = sdkClientsOf(meta);
    const used = sdkExportsOf(meta);
    const baselineOf = (name: string, withCalls: boolean): string => {
      const entry = path.join(dir, `${name}-${fn}.ts`);
      const calls = withCalls ? clients.flatMap((c) => used.get(c) ?? []) : [];
      writeFileSync(
        entry,
        [
          ...clients.map(
            (c) =>
              `import { ${[clientClass(c), ...(withCalls ? (used.get(c) ?? []) : [])].join(', ')} } from '@aws-sdk/${c}';`,
          ),
          `export const clients = [${clients.map((c) => `new ${clientClass(c)}({})`).join(', ')}];`,
          `export const calls = [${calls.join(', ')}];`,
        ].join('\n'),
      );
      const out = path.join(dir, name, fn, 'index.js');
      bundleLikeKbFunction(entry, out);
      return out;
    };
    const baseline = baselineOf('baseline', true);
    const clientsOnly = baselineOf('clients-only', false);
    let compareFile: string | undefined;
    if (compareRoot) {
      compareFile = path.join(dir, `compare-${fn}`, 'index.js');
      const compareMeta = bundleLikeKbFunction(
        path.join(compareRoot, 'lambda', fn, 'index.ts'),
        compareFile,
        comparedSidePackages(compareRoot, fn),
      );
      const compareClients = sdkClientsOf(compareMeta);
      if (compareClients.join() !== clients.join())
        throw new Error(
          `bench: ${fn} bundles ${clients.join('+')} here but ${compareClients.join('+')} in ${compareRoot}: one baseline cannot serve both`,
        );
    }
    return {
      fn,
      file,
      ...(compareFile ? { compareFile, compareKib: statSync(compareFile).size / 1024 } : {}),
      baseline,
      clientsOnly,
      clients,
      kib: statSync(file).size / 1024,
      baselineKib: statSync(baseline).size / 1024,
    };
  });
}

/** What `compareRoot`'s KbFunction ships beside `fn`'s main bundle (nothing, before side packages existed). */
function comparedSidePackages(compareRoot: string, fn: string): readonly string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the other checkout's module, read at run time
  const other = require(path.join(compareRoot, 'lib/constructs/kb-function-bundling')) as {
    sidePackagesOf?: (fn: string) => readonly string[];
  };
  return other.sidePackagesOf?.(fn) ?? [];
}

function runsOf(opts: ColdLoadOptions): number {
  return Math.max(3, opts.runs ?? Number(process.env.BENCH_COLD_RUNS ?? process.env.BENCH_RUNS ?? 21));
}

const ms = (runs: readonly ColdRun[], key: keyof ColdRun) => median(runs.map((r) => r[key])).toFixed(0);

/**
 * Cold-load rows: one per function (and one per function of `compareRoot`, measured in the same
 * rounds), ratio = median over rounds of CPU time evaluating the function / evaluating its SDK clients.
 */
export function functionColdLoadRows(opts: ColdLoadOptions = {}): BenchRow[] {
  const runs = runsOf(opts);
  const dir = mkdtempSync(path.join(tmpdir(), 'kb-bench-cold-'));
  try {
    mkdirSync(dir, { recursive: true });
    return buildAll(dir, opts.functions ?? functionDirs(), opts.compareRoot).flatMap((b) => {
      const files = [b.file, b.baseline, b.clientsOnly, ...(b.compareFile ? [b.compareFile] : [])];
      const [fn, base, bare, compare] = alternate(
        files.map((f) => () => childRun(f)),
        runs,
      );
      const row = (label: string, runsOfFn: readonly ColdRun[], kib: number): BenchRow => {
        const cpu = pairedRatio(runsOfFn, base!);
        const wall = pairedRatio(runsOfFn, base!, 'wallMs');
        return {
          name: `cold load: ${label}`,
          ratio: cpu.median,
          target: COLD_LOAD_TARGET,
          detail:
            `CPU ${fmt(cpu)}: ${ms(runsOfFn, 'cpuMs')} vs ${ms(base!, 'cpuMs')} ms evaluating vs requiring ${b.clients.join('+')} and the commands it sends; ` +
            `sdkClientsOnly ${pairedRatio(runsOfFn, bare!).median.toFixed(3)}x (${ms(bare!, 'cpuMs')} ms); ` +
            `wall ${wall.median.toFixed(2)}x (IQR ${wall.q1.toFixed(2)}-${wall.q3.toFixed(2)}); ` +
            `bundle ${kib.toFixed(0)} KiB vs ${b.baselineKib.toFixed(0)} KiB; median of ${runs} alternating rounds`,
        };
      };
      return [
        row(b.fn, fn!, b.kib),
        ...(compare ? [row(`${b.fn} (${opts.compareRoot})`, compare, b.compareKib ?? 0)] : []),
      ];
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
          () => childRun(b.file, '--enable-source-maps'),
          () => childRun(b.file),
          () => childScript(errorPathScript(b.file), '--enable-source-maps'),
          () => childScript(errorPathScript(b.file)),
        ],
        runs,
      );
      const figures = (on: readonly ColdRun[], off: readonly ColdRun[]) =>
        `CPU ${fmt(pairedRatio(on, off))}: ${ms(on, 'cpuMs')} ms with vs ${ms(off, 'cpuMs')} ms without; median of ${runs} rounds`;
      return [
        {
          name: `source maps at load: ${b.fn}`,
          ratio: pairedRatio(loadOn!, loadOff!).median,
          target: 1,
          detail: `require only: ${figures(loadOn!, loadOff!)}`,
        },
        {
          name: `source maps on an error path: ${b.fn}`,
          ratio: pairedRatio(errOn!, errOff!).median,
          target: 1,
          detail: `whole process, require + handler(invalid event) + stack: ${figures(errOn!, errOff!)}`,
        },
      ];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench`'s "function cold load" rows: one per function, beside the bare require of its SDK clients. */
export const coldLoadBench: BenchModule = {
  name: 'coldload',
  run: async (): Promise<TableRow[]> =>
    functionColdLoadRows().map((r) => ({
      area: 'function cold load',
      what: `${r.name.replace(/^cold load: /, '')} vs a bare require of its SDK clients (CPU time evaluating the bundle)`,
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
  const args = process.argv.slice(2);
  const compareAt = args.indexOf('--compare');
  const compareRoot = compareAt >= 0 ? path.resolve(args[compareAt + 1] ?? '') : undefined;
  const functions = args.filter((a, i) => !a.startsWith('-') && (compareAt < 0 || i !== compareAt + 1));
  const opts: ColdLoadOptions = {
    ...(functions.length ? { functions } : {}),
    ...(compareRoot ? { compareRoot } : {}),
  };
  const load = loadavg();
  console.log(
    `function cold load, esbuild target ${TARGET} bundles as KbFunction builds them; ${new Date().toISOString()}; ${cpus().length} CPUs, load average ${load.map((l) => l.toFixed(1)).join(' ')}`,
  );
  printRows(functionColdLoadRows(opts));
  if (!args.includes('--no-source-maps')) printRows(sourceMapRows(opts));
  console.log(
    `load average at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}
