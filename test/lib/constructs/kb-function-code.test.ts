/**
 * KbFunction's code: one esbuild build for every function of the app (lib/constructs/kb-function-code.ts).
 * The bundles themselves are checked by `npm run check:synth` (a real `cdk synth`); here, on small
 * fixture entries and with esbuild's build recorded, that each entry stays its own bundle, that the
 * app builds once, and that a synth without bundling builds nothing.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as EsbuildModule from 'esbuild';
import type { BuildOptions } from 'esbuild';
import { sidePackagesOf } from '../../../lib/constructs/kb-function-bundling';
import { FUNCTIONS } from '../../../core/functions';
import type * as KbFunctionCode from '../../../lib/constructs/kb-function-code';
import type * as KbFunctionModule from '../../../lib/constructs/kb-function';

jest.mock('esbuild', () => {
  const actual = jest.requireActual<typeof EsbuildModule>('esbuild');
  return { ...actual, buildSync: jest.fn(actual.buildSync) };
});
const esbuild = jest.requireMock<typeof EsbuildModule>('esbuild');
const buildSync = esbuild.buildSync as jest.MockedFunction<typeof esbuild.buildSync>;

type CodeModule = typeof KbFunctionCode;
type KbModule = typeof KbFunctionModule;

/** The modules as a fresh process has them (kb-function-code builds once per process). */
function freshModules(): { code: CodeModule; kb: KbModule } {
  let modules: { code: CodeModule; kb: KbModule } | undefined;
  jest.isolateModules(() => {
    modules = {
      code: jest.requireActual<CodeModule>('../../../lib/constructs/kb-function-code'),
      kb: jest.requireActual<KbModule>('../../../lib/constructs/kb-function'),
    };
  });
  return modules!;
}

/** Instead of a real build of every function: each entry's bundle says which entry it is. */
function fakeBuild(options: BuildOptions): ReturnType<typeof esbuild.buildSync> {
  const entries = options.entryPoints as { in: string; out: string }[];
  for (const { in: entry, out } of entries) {
    mkdirSync(join(options.outdir!, out, '..'), { recursive: true });
    writeFileSync(join(options.outdir!, `${out}.js`), `// built from ${entry}\n`);
    writeFileSync(join(options.outdir!, `${out}.js.map`), '{}\n');
  }
  return { errors: [], warnings: [], outputFiles: undefined, metafile: undefined, mangleCache: undefined };
}

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'kb-fn-code-'));
  buildSync.mockClear();
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('buildBundles', () => {
  it('bundles each entry on its own: a module only one entry imports is in that bundle only, and each runs', () => {
    // Prepare: two entries sharing one module, each with one module of its own.
    const src = join(work, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'shared.ts'), 'export const shared = (s: string): string => `shared:${s}`;\n');
    writeFileSync(join(src, 'only-a.ts'), "export const onlyA = (): string => 'ALPHA_ONLY_MARKER';\n");
    writeFileSync(join(src, 'only-b.ts'), "export const onlyB = (): string => 'BRAVO_ONLY_MARKER';\n");
    writeFileSync(
      join(src, 'a.ts'),
      "import { shared } from './shared';\nimport { onlyA } from './only-a';\nexport const handler = async () => shared(onlyA());\n",
    );
    writeFileSync(
      join(src, 'b.ts'),
      "import { shared } from './shared';\nimport { onlyB } from './only-b';\nexport const handler = async () => shared(onlyB());\n",
    );
    const { code } = freshModules();
    const out = join(work, 'out');

    // Act
    code.buildBundles({ alpha: join(src, 'a.ts'), bravo: join(src, 'b.ts') }, out);

    // Assess: one build; per entry an index.js and its map, nothing shared between them.
    expect(buildSync).toHaveBeenCalledTimes(1);
    expect(readdirSync(out).sort()).toEqual(['alpha', 'bravo']);
    for (const name of ['alpha', 'bravo']) {
      expect(readdirSync(join(out, name)).sort()).toEqual(['index.js', 'index.js.map']);
    }
    const alpha = readFileSync(join(out, 'alpha', 'index.js'), 'utf8');
    const bravo = readFileSync(join(out, 'bravo', 'index.js'), 'utf8');
    expect(alpha).toContain('ALPHA_ONLY_MARKER');
    expect(alpha).not.toContain('BRAVO_ONLY_MARKER');
    expect(bravo).toContain('BRAVO_ONLY_MARKER');
    expect(bravo).not.toContain('ALPHA_ONLY_MARKER');
    expect(alpha).not.toMatch(/require\(["']\.\//); // no chunk shared through a relative require
  });

  it('each bundle runs alone, as Lambda loads it (CommonJS, exports handler)', async () => {
    const src = join(work, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'shared.ts'), 'export const twice = (n: number): number => n * 2;\n');
    writeFileSync(
      join(src, 'a.ts'),
      "import { twice } from './shared';\nexport const handler = async () => twice(21);\n",
    );
    const { code } = freshModules();
    const out = join(work, 'out');
    code.buildBundles({ alpha: join(src, 'a.ts') }, out);
    rmSync(src, { recursive: true }); // the bundle must not reach back into its sources
    const bundle = jest.requireActual<{ handler: () => Promise<number> }>(join(out, 'alpha', 'index.js'));
    await expect(bundle.handler()).resolves.toBe(42);
  });
});

describe('KbFunction code in an app', () => {
  function appWith(context: Record<string, unknown>, functionDirs: readonly string[]): App {
    const { kb } = freshModules();
    const app = new App({ outdir: join(work, 'cdk.out'), context });
    const stack = new Stack(app, 'Fns');
    const logGroup = logs.LogGroup.fromLogGroupName(stack, 'Logs', '/aws/knowledgebase/test');
    for (const dir of functionDirs) {
      new kb.KbFunction(stack, `Fn-${dir}`, { functionDir: dir, description: dir, logGroup });
    }
    return app;
  }

  it('builds every catalog function without side packages in one build at the first of them, and ships each its own bundle', () => {
    buildSync.mockImplementation(fakeBuild);
    try {
      // Asset metadata (the asset folder of each function), as the CDK CLI asks for it.
      const app = appWith({ 'aws:cdk:enable-asset-metadata': true }, [
        'backup',
        'reconcile',
        'restore-status',
      ]);
      const assembly = app.synth();

      // One build for every function without side packages; a function with them (verify-restore)
      // builds alone, only when asked for (test/lib/constructs/kb-function.test.ts).
      expect(buildSync).toHaveBeenCalledTimes(1);
      const entries = (buildSync.mock.calls[0]![0].entryPoints as { in: string; out: string }[]).map(
        (e) => e.out,
      );
      expect(entries.sort()).toEqual(
        FUNCTIONS.filter((fn) => sidePackagesOf(fn).length === 0)
          .map((fn) => `${fn}/index`)
          .sort(),
      );
      expect(entries).not.toContain('verify-restore/index');
      // Each function's asset holds the bundle of its own entry.
      const template = assembly.getStackByName('Fns').template as {
        Resources: Record<
          string,
          { Type: string; Properties: { Description?: string }; Metadata?: Record<string, string> }
        >;
      };
      const fns = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(fns).toHaveLength(3);
      for (const fn of fns) {
        const dir = fn.Properties.Description!;
        const asset = join(assembly.directory, fn.Metadata!['aws:asset:path']!);
        expect(readFileSync(join(asset, 'index.js'), 'utf8')).toBe(
          `// built from ${join(__dirname, '../../../lambda', dir, 'index.ts')}\n`,
        );
        expect(readdirSync(asset).sort()).toEqual(['index.js', 'index.js.map']);
      }
    } finally {
      buildSync.mockImplementation(jest.requireActual<typeof EsbuildModule>('esbuild').buildSync);
    }
  });

  it('builds nothing for a stack left out of bundling (aws:cdk:bundling-stacks: [])', () => {
    const app = appWith({ 'aws:cdk:bundling-stacks': [] }, ['backup', 'reconcile']);
    app.synth();
    expect(buildSync).not.toHaveBeenCalled();
  });

  it('names the missing entry, and builds nothing, for a function folder that does not exist', () => {
    expect(() => appWith({}, ['no-such-function'])).toThrow(
      /KbFunction: lambda\/no-such-function\/index\.ts does not exist; a function's folder under lambda\/ holds an index\.ts that exports handler/,
    );
    expect(buildSync).not.toHaveBeenCalled();
  });
});
