/**
 * restore-status only formats verification lines from kb-data-checks; it must not evaluate the
 * PostgreSQL driver at a cold start (pg loads only when a check connects).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = resolve(__dirname, '../../..');

/** The modules a bundle of `entry` requires while it loads (pg kept external so its load shows). */
function modulesLoadedAtColdStart(entry: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'kb-cold-'));
  try {
    const out = join(dir, 'index.js');
    buildSync({
      entryPoints: [join(ROOT, entry)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      external: ['pg'],
      outfile: out,
      logLevel: 'error',
    });
    const probe = `
      const M = require('module'); const load = M._load; const seen = [];
      M._load = function (r, ...a) { seen.push(r); return load.call(this, r, ...a); };
      try { require(${JSON.stringify(out)}); } catch { /* configuration errors after the imports */ }
      process.stdout.write(JSON.stringify(seen));`;
    return JSON.parse(
      execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: {} }),
    ) as string[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('restore-status cold start', () => {
  it('does not load pg', () => {
    expect(modulesLoadedAtColdStart('lambda/restore-status/index.ts')).not.toContain('pg');
  });

  it('the probe sees pg when a module imports it at the top (control)', () => {
    expect(modulesLoadedAtColdStart('harness/pg-cluster.ts')).toContain('pg');
  });
});
