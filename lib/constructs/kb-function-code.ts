/**
 * The deployment code of a KbFunction: its bundle, built by one in-process esbuild build for every
 * function of the app.
 *
 * NodejsFunction bundled each function on its own, through `bash -c "npx --no-install esbuild ..."`:
 * per function a shell, an npm start (about 0.8 s of CPU) and an esbuild that parsed the AWS SDK
 * again. One build with every function as an entry point parses each shared module once and starts
 * nothing but esbuild itself: the whole `cdk synth` of the app (scripts/ci/check-synth.sh's command,
 * `/usr/bin/time`, two runs each, alternating, load 4-5) went from 38.7-41.0 to 18.3-20.8 CPU-s,
 * together with cdk.json starting the app with `node --import tsx` instead of `npx tsx`. Each entry
 * is still its own bundle (no code splitting): the 10 bundles of that synth were byte-identical to
 * NodejsFunction's.
 *
 * The build runs inside CDK's asset bundling (`local` bundling), so the CDK's rules still apply:
 * stacks left out of `aws:cdk:bundling-stacks` (the tests' synths) are not bundled at all, and the
 * asset's hash is the bundle's. It runs once per process, at the first function whose stack needs
 * it, into a temporary folder removed when the process exits; each function's files are copied from
 * there into the folder CDK stages.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync, type Metafile } from 'esbuild';
import { FUNCTIONS } from '../../core/functions';
import {
  buildSidePackages,
  kbFunctionBuildOptions,
  PROJECT_ROOT,
  sidePackagesOf,
} from './kb-function-bundling';

export { PROJECT_ROOT };

/** The entry of `functionDir`: lambda/<functionDir>/index.ts, exporting `handler`. */
export function kbFunctionEntry(functionDir: string): string {
  return path.join(PROJECT_ROOT, 'lambda', functionDir, 'index.ts');
}

/**
 * Bundle each of `entries` (output name -> entry file) on its own, in one esbuild build, into
 * `outdir`/<name>/index.js (+ .map). No code splitting: a module two entries import is in both
 * bundles, so each bundle is what a build of its entry alone would write. `sidePackages`
 * (kb-function-bundling.ts sidePackagesOf) stay out of the bundles (`import()` of them compiled to
 * `require()`), and each is bundled to its own file beside every bundle,
 * `<name>/node_modules/<pkg>/index.js`, where the bundle finds it. Returns the build's metafile
 * (every bundle's inputs, by output path relative to the project).
 */
export function buildBundles(
  entries: Readonly<Record<string, string>>,
  outdir: string,
  sidePackages: readonly string[] = [],
): Metafile {
  const { metafile } = buildSync({
    ...kbFunctionBuildOptions(sidePackages),
    entryPoints: Object.entries(entries).map(([name, entry]) => ({ in: entry, out: `${name}/index` })),
    outdir,
    splitting: false,
    metafile: true,
  });
  for (const name of Object.keys(entries)) buildSidePackages(sidePackages, path.join(outdir, name));
  return metafile;
}

function requireEntry(functionDir: string): void {
  if (!existsSync(kbFunctionEntry(functionDir))) {
    throw new Error(
      `KbFunction: ${path.relative(PROJECT_ROOT, kbFunctionEntry(functionDir))} does not exist; a function's folder under lambda/ holds an index.ts that exports handler`,
    );
  }
}

/** Function folder -> the folder holding its built index.js and index.js.map, for this process. */
const built = new Map<string, string>();

/**
 * Build `functionDir`, and with it every catalog function (core/functions.ts) not built yet in this
 * process that builds the same way: the functions without side packages in one build; a function
 * with side packages on its own (its externals are its own). Returns the folder holding its
 * index.js and index.js.map.
 */
export function builtKbFunction(functionDir: string): string {
  const done = built.get(functionDir);
  if (done) return done;
  requireEntry(functionDir);
  const sidePackages = sidePackagesOf(functionDir);
  const wanted =
    sidePackages.length > 0
      ? [functionDir]
      : [...new Set([functionDir, ...FUNCTIONS])].filter(
          (fn) => !built.has(fn) && sidePackagesOf(fn).length === 0 && existsSync(kbFunctionEntry(fn)),
        );
  const outdir = mkdtempSync(path.join(tmpdir(), 'kb-dr-functions-'));
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  buildBundles(Object.fromEntries(wanted.map((fn) => [fn, kbFunctionEntry(fn)])), outdir, sidePackages);
  for (const fn of wanted) built.set(fn, path.join(outdir, fn));
  return path.join(outdir, functionDir);
}

/**
 * `functionDir`'s code as a Lambda asset, bundled when its stack is (see the file comment). The
 * asset's source is the function's folder, so an unbundled synth fingerprints only that.
 */
export function kbFunctionCode(functionDir: string): lambda.Code {
  requireEntry(functionDir);
  return lambda.Code.fromAsset(path.dirname(kbFunctionEntry(functionDir)), {
    bundling: {
      local: {
        tryBundle(outputDir: string): boolean {
          cpSync(builtKbFunction(functionDir), outputDir, { recursive: true });
          return true;
        },
      },
      // Required by the API, never used: the local bundling above always bundles or throws (an
      // esbuild error names the file and line), it never falls back to Docker.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
    },
  });
}
