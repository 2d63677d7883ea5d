/**
 * The import graph's rules (.dependency-cruiser.js, run by `npm run lint:imports`), checked on a
 * throwaway tree: each forbidden import is reported under its rule, each allowed one is not.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(__dirname, '../..');
const execFileAsync = promisify(execFile);

/** The probe tree: path → source. Fake `zod` and `aws-cdk-lib` packages stand in for npm. */
const PROBE: Readonly<Record<string, string>> = {
  'tsconfig.json': '{"compilerOptions": {"module": "commonjs", "moduleResolution": "node"}}',
  'node_modules/zod/package.json': '{"name": "zod", "main": "index.js"}',
  'node_modules/zod/index.js': 'exports.z = {};',
  'node_modules/zod/mini/index.js': 'exports.z = {};',
  'node_modules/aws-cdk-lib/package.json': '{"name": "aws-cdk-lib", "main": "index.js"}',
  'node_modules/aws-cdk-lib/index.js': 'exports.Stack = class {};',
  // Allowed: core on node built-ins, zod and itself; a function on lambda/shared and core; the
  // CLI on lambda and core; a test on anything.
  'core/ok.ts':
    "import { readFileSync } from 'node:fs';\nimport { z } from 'zod';\nimport * as m from 'zod/mini';\nimport { x } from './other';\nexport const ok = [readFileSync, z, m, x];\n",
  'core/other.ts': 'export const x = 1;\n',
  'lambda/fn/ok.ts':
    "import { x } from '../../core/other';\nimport { s } from '../shared/ok';\nexport const ok = [x, s];\n",
  'lambda/shared/ok.ts': "import { x } from '../../core/other';\nexport const s = x;\n",
  'cli/ok.ts': "import { ok } from '../lambda/fn/ok';\nexport const c = ok;\n",
  'test/ok.test.ts':
    "import { d } from '../drill/d';\nimport { h } from '../harness/h';\nimport { t } from './support/t';\nexport const all = [d, h, t];\n",
  'test/support/t.ts': 'export const t = 1;\n',
  'drill/d.ts': "import { c } from '../cli/ok';\nexport const d = c;\n",
  // Forbidden, one rule each (the file name says which).
  'core/bad-ours.ts': "import { s } from '../lambda/shared/ok';\nexport const b = s;\n",
  'core/bad-npm.ts': "import { Stack } from 'aws-cdk-lib';\nexport const b = Stack;\n",
  'lambda/shared/bad-up.ts': "import { ok } from '../fn/ok';\nexport const b = ok;\n",
  'lambda/fn/bad.ts':
    "import { l } from '../../lib/l';\nimport { h } from '../../harness/h';\nimport { t } from '../../test/support/t';\nexport const b = [l, h, t];\n",
  'harness/h.ts': "import { t } from '../test/support/t';\nexport const h = t;\n",
  'lib/l.ts': "import { d } from '../drill/d';\nexport const l = d;\n",
  'cli/cycle-a.ts': "import { b } from './cycle-b';\nexport const a = () => b;\n",
  'cli/cycle-b.ts': "import { a } from './cycle-a';\nexport const b = () => a;\n",
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

let probe: string;
let violations: string[];

beforeAll(async () => {
  probe = mkdtempSync(join(tmpdir(), 'kb-import-graph-'));
  for (const [path, source] of Object.entries(PROBE)) {
    mkdirSync(dirname(join(probe, path)), { recursive: true });
    writeFileSync(join(probe, path), source);
  }
  const bin = join(ROOT, 'node_modules', '.bin', 'depcruise');
  const args = ['core', 'lambda', 'lib', 'cli', 'harness', 'drill', 'test'];
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      bin,
      [...args, '--config', join(ROOT, '.dependency-cruiser.js'), '--output-type', 'json'],
      { cwd: probe, maxBuffer: 64 * 1024 * 1024 },
    ));
  } catch (err) {
    // depcruise exits non-zero when it finds errors; its JSON is on stdout all the same.
    stdout = (err as { stdout?: string }).stdout ?? '';
    if (!stdout) throw err;
  }
  const result = JSON.parse(stdout) as { summary: { violations: Violation[] } };
  violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}, 60_000);

afterAll(() => {
  if (probe) rmSync(probe, { recursive: true, force: true });
});

describe('import graph rules (dependency-cruiser)', () => {
  it('reports each forbidden import under its rule, and nothing else', () => {
    expect(violations).toEqual(
      [
        'core-imports-nothing-of-ours: core/bad-ours.ts -> lambda/shared/ok.ts',
        'core-imports-nothing-of-ours: core/bad-npm.ts -> node_modules/aws-cdk-lib/index.js',
        'lambda-shared-is-below-the-functions: lambda/shared/bad-up.ts -> lambda/fn/ok.ts',
        'lambda-is-deployed-code: lambda/fn/bad.ts -> lib/l.ts',
        'lambda-is-deployed-code: lambda/fn/bad.ts -> harness/h.ts',
        'lambda-is-deployed-code: lambda/fn/bad.ts -> test/support/t.ts',
        'nothing-outside-test-imports-test: lambda/fn/bad.ts -> test/support/t.ts',
        'harness-never-imports-test: harness/h.ts -> test/support/t.ts',
        'entry-points-are-leaves: lib/l.ts -> drill/d.ts',
        // A cycle is reported once, from its first module.
        'no-circular: cli/cycle-a.ts -> cli/cycle-b.ts',
      ].sort(),
    );
  });

  it('accepts core on node built-ins, zod (and zod/mini) and itself, and tests importing anything', () => {
    const allowed = [
      'core/ok.ts',
      'lambda/fn/ok.ts',
      'lambda/shared/ok.ts',
      'cli/ok.ts',
      'test/',
      'drill/d.ts',
    ];
    expect(violations.filter((v) => allowed.some((file) => v.includes(`: ${file}`)))).toEqual([]);
  });
});
