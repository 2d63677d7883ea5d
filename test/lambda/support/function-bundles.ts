/**
 * The functions' bundles as KbFunction builds them (kb-function-code.ts buildBundles: the functions
 * with the same side packages in one esbuild build, each its own bundle, side packages' files
 * beside it), built once per jest run and shared by the test files that read them or run them in
 * a fresh node (cold-start, shipped-bundle). No file writes to them. Building them cost about 1.3
 * s of CPU per function; the two files built their own.
 *
 * The run's copy lives in the run's temp folder (test/global-setup.ts), which the global teardown
 * removes. One worker builds at a time and the others wait for its build
 * (harness/once-across-processes.ts). Outside this jest config (no run folder) a file builds its
 * own, removed when it exits.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Metafile } from 'esbuild';
import { sidePackagesOf } from '../../../lib/constructs/kb-function-bundling';
import { buildBundles } from '../../../lib/constructs/kb-function-code';
import { onceAcrossProcesses } from '../../../harness/once-across-processes';
import { RUN_TMPDIR_ENV } from '../../global-setup';

const ROOT = resolve(__dirname, '../../..');

/** The functions whose bundles the tests read or run. */
export const SHARED_BUNDLES = [
  'verify-restore',
  'restore-status',
  'restore-test',
  'backup',
  'reconcile',
] as const;
export type SharedBundle = (typeof SHARED_BUNDLES)[number];

/** A function's bundle, as KbFunction ships it (with its side packages' files beside it). */
export interface FunctionBundle {
  /** The folder KbFunction would ship: index.js, index.js.map and side packages. */
  readonly dir: string;
  readonly out: string;
  /** This function's outputs (its bundle and source map) with the build's inputs. */
  readonly metafile: Metafile;
}

const METAFILES = 'metafiles.json';
let built: { readonly dir: string; readonly metafiles: Record<string, Metafile> } | undefined;

/** Build every SHARED_BUNDLES function into `dir` and record each one's metafile there. */
function buildInto(dir: string): void {
  const groups = new Map<string, string[]>();
  for (const f of SHARED_BUNDLES) {
    const key = JSON.stringify(sidePackagesOf(f));
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const metafiles: Record<string, Metafile> = {};
  for (const [key, fns] of groups) {
    const entries = Object.fromEntries(fns.map((f) => [f, join(ROOT, 'lambda', f, 'index.ts')]));
    const metafile = buildBundles(entries, dir, JSON.parse(key) as string[]);
    for (const f of fns) {
      const outputs = Object.fromEntries(
        Object.entries(metafile.outputs).filter(([file]) => file.includes(`/${f}/index.js`)),
      );
      metafiles[f] = { inputs: metafile.inputs, outputs };
    }
  }
  // Written last: a folder with this file is complete.
  writeFileSync(join(dir, METAFILES), JSON.stringify(metafiles));
}

/** The folder holding every shared bundle, built on first use in this run. */
function bundlesDir(): string {
  const runTmp = process.env[RUN_TMPDIR_ENV];
  if (!runTmp) {
    const own = mkdtempSync(join(tmpdir(), 'kb-function-bundles-'));
    process.once('exit', () => rmSync(own, { recursive: true, force: true }));
    buildInto(own);
    return own;
  }
  const shared = join(runTmp, 'kb-function-bundles');
  const complete = () => (existsSync(join(shared, METAFILES)) ? shared : undefined);
  return onceAcrossProcesses(`${shared}.lock`, complete, () => {
    const mine = mkdtempSync(`${shared}.making-`);
    buildInto(mine);
    try {
      renameSync(mine, shared);
    } catch (err) {
      // Made meanwhile by a waiter that gave up waiting: theirs is as good as ours.
      rmSync(mine, { recursive: true, force: true });
      if (!complete()) throw err;
    }
    return shared;
  });
}

/** `fn`'s bundle as KbFunction builds it, shared by every test file of the run. */
export function functionBundle(fn: SharedBundle): FunctionBundle {
  if (!built) {
    const dir = bundlesDir();
    built = {
      dir,
      metafiles: JSON.parse(readFileSync(join(dir, METAFILES), 'utf8')) as Record<string, Metafile>,
    };
  }
  const { dir, metafiles } = built;
  const metafile = metafiles[fn];
  if (!metafile) throw new Error(`no bundle of ${fn} in ${dir}`);
  // The metafile's output paths name the folder it was built in (before the rename).
  return { dir: join(dir, fn), out: join(dir, fn, 'index.js'), metafile };
}
