/**
 * The esbuild choices KbFunction bundles with that change what a function evaluates at a cold
 * start, in a file free of CDK imports so the cold-load bench and the cold-start tests bundle a
 * function exactly as it ships.
 */

/**
 * `module` first: the AWS SDK's ES builds (`dist-es`), which esbuild tree-shakes down to the
 * commands and schemas a function uses, instead of one CommonJS file per client that defines every
 * command and its schemas at load. Measured on verify-restore's bundle (bench/function-cold-load.ts):
 * 1409 KiB to about 1015 KiB, and about half the CPU time evaluating it. `main` stays as the fallback
 * for packages without an ES build.
 */
export const KB_FUNCTION_MAIN_FIELDS: readonly string[] = ['module', 'main'];
