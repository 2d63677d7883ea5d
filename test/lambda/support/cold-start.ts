/**
 * What a function's bundle evaluates at a cold start: the entry is bundled as KbFunction bundles
 * it, except that the named packages are kept external, so a fresh `node` that requires the bundle
 * shows whether (and only whether) each of them is loaded while the module loads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { KB_FUNCTION_MAIN_FIELDS } from '../../../lib/constructs/kb-function-bundling';
import { VERIFY_ENV } from '../../../lambda/shared/verify-settings';
import { HANDLER_ENV } from './handlers';

const ROOT = resolve(__dirname, '../../..');

/** Every setting a function reads at load, so the whole module loads (a throw would hide later imports). */
export const COLD_START_ENV: Readonly<Record<string, string>> = {
  ...HANDLER_ENV,
  AWS_ACCESS_KEY_ID: 'cold-start',
  AWS_SECRET_ACCESS_KEY: 'cold-start',
  // Nothing is sent while loading; if anything were, it would fail at once on loopback.
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  POWERTOOLS_SERVICE_NAME: 'kb-cold-start',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  // IAM logins: the mode whose login would need @aws-sdk/rds-signer.
  [VERIFY_ENV.mode]: 'iam',
};

/** What loading a bundle required, and the error it threw at load, if any. */
export interface ColdStartLoads {
  readonly loaded: readonly string[];
  readonly error?: string;
}

/**
 * The module requests `require`d while each of `entries` (name -> entry, relative to the project
 * root or absolute) loads, bundled with `external` left out of the bundle: one esbuild build for
 * all of them (each its own bundle), each loaded in a fresh node.
 */
export function modulesLoadedAtColdStart(
  entries: Readonly<Record<string, string>>,
  external: readonly string[],
): Record<string, ColdStartLoads> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-cold-'));
  try {
    buildSync({
      entryPoints: Object.entries(entries).map(([name, entry]) => ({
        in: resolve(ROOT, entry),
        out: `${name}/index`,
      })),
      absWorkingDir: ROOT,
      nodePaths: [join(ROOT, 'node_modules')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      mainFields: [...KB_FUNCTION_MAIN_FIELDS],
      external: [...external],
      outdir: dir,
      logLevel: 'error',
    });
    return Object.fromEntries(
      Object.keys(entries).map((name) => {
        const probe = `
      const M = require('module'); const load = M._load; const seen = [];
      M._load = function (r, ...a) { seen.push(r); return load.call(this, r, ...a); };
      let error;
      try { require(${JSON.stringify(join(dir, name, 'index.js'))}); } catch (e) { error = String(e && e.message); }
      process.stdout.write(JSON.stringify({ loaded: seen, error }));`;
        const loads = JSON.parse(
          execFileSync(process.execPath, ['-e', probe], {
            encoding: 'utf8',
            // The bundle is in a temp dir: its external packages resolve from the project.
            env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...COLD_START_ENV },
          }),
        ) as ColdStartLoads;
        return [name, loads];
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
