#!/usr/bin/env node
/**
 * Builds the operator CLI (bin/kb-dr.ts) into one plain JavaScript file, dist/kb-dr.js, so every
 * command starts with `node` alone: no TypeScript transpiling at run time. Runs on `npm ci`
 * (`prepare`), from `npm run build:cli`, and from scripts/*.sh when the sources are newer than
 * the build. The AWS SDK stays in node_modules and is required only by the RDS commands (their
 * modules are imported dynamically), so local commands never load it. So do zod and pg (runtime
 * dependencies, installed by `npm ci` like the SDK): only the RDS commands and recover-entries
 * load them, and bundled they made every start parse 0.9 MB it did not run. Minified: less to
 * parse at each start; the source map still names the .ts lines.
 */
import { build } from 'esbuild';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How the built file starts when run as a program (package.json `bin`); scripts/lib/run-cli.sh
 * starts node with the same flags. Flags given at start, as Node supports (not set at run time):
 * --expose-gc: the backup and restore pace V8's collector to keep memory flat (cli/local/gc-pacer.ts).
 * --max-opt=1: no optimizing compiler (baseline code at most). The CLI's hot loops are native
 *   (deflate, SHA-256, indexOf, the pipes): at 50,000 entries the backup's node CPU time was the
 *   same with and without it (4.8-5.0 s), and its peak RSS 4-5 MB lower (55 vs 60 MB), the code
 *   pages and compiler memory TurboFan touches once a pass runs long enough; the restore's too.
 * `env -S` splits the line (GNU coreutils 8.30+, macOS, the BSDs; not BusyBox: there run
 * scripts/*.sh or `node --expose-gc --max-opt=1 dist/kb-dr.js`).
 */
const SHEBANG = '#!/usr/bin/env -S node --expose-gc --max-opt=1';

/**
 * commander requires child_process at load, for subcommands run as separate executables, which
 * kb-dr has none of; child_process brings net, dgram and streams with it. It gets a stand-in
 * that loads the real module on first use, so `--help` and refused command lines start without
 * it (bench/startup.ts; test/cli/local/startup-loads.test.ts).
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'kb-dr-lazy' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'kb-dr-lazy' }, () => ({
      contents:
        "module.exports = new Proxy({}, { get: (_target, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const result = await build({
  absWorkingDir: root,
  entryPoints: ['bin/kb-dr.ts'],
  outfile: 'dist/kb-dr.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Loaded from node_modules by the commands that need them only (see above).
  external: ['@aws-sdk/*', '@smithy/*', '@aws-lambda-powertools/*', 'zod', 'pg'],
  minify: true,
  // Stack traces name the .ts files (node --enable-source-maps: scripts/lib/run-cli.sh at LOG_LEVEL=DEBUG).
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  legalComments: 'none',
  write: false,
  plugins: [lazyChildProcessForCommander],
});
await mkdir(join(root, 'dist'), { recursive: true });
// The map first, the program last, each written aside and renamed: a CLI started while another
// one rebuilds (tests run scripts in parallel) reads either the old file or the new, never half.
const outputs = [...result.outputFiles].sort(
  (a, b) => Number(a.path.endsWith('.js')) - Number(b.path.endsWith('.js')),
);
for (const file of outputs) {
  const program = file.path.endsWith('.js');
  // The source's `#!/usr/bin/env -S npx tsx` becomes plain node: the built file needs no tsx.
  // With the flags above (SHEBANG).
  const text = program ? file.text.replace(/^#![^\n]*\n/, `${SHEBANG}\n`) : file.text;
  const aside = `${file.path}.${process.pid}.tmp`;
  await writeFile(aside, text);
  if (program) await chmod(aside, 0o755);
  await rename(aside, file.path);
}
