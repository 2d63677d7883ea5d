/**
 * The synthesized templates of the test app (harness/app.ts), synthesized once and shared by every
 * test file and jest worker that asks for the same app.
 *
 * A synth with cdk-nag costs about 10 s of CPU, and a dozen test files read the same templates. The
 * first caller synthesizes and writes both templates as JSON under node_modules/.cache/kb-dr/synth/,
 * named by a hash of everything the synth reads: every file under lib/, lambda/, core/, harness/
 * and bin/, cdk.json, package-lock.json, the installed aws-cdk-lib and cdk-nag versions, and the
 * context, environment and account/region asked for. Any change to those inputs names another
 * file, so a stale template cannot be read. A lock file keeps two workers from both synthesizing
 * the same app: the second waits for the first's file (or takes over if the first died).
 *
 * On a hit nothing of the CDK is loaded: callers get plain template JSON (what
 * `Template.fromStack(stack).toJSON()` returns), e.g. for `Template.fromJSON`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TEST_APP_CONTEXT, TEST_ENV } from './app-defaults';
import { onceAcrossProcesses } from './once-across-processes';
import type { KbDrApp } from '../lib/app';
import type * as TestApp from './app';

const ROOT = join(__dirname, '..');
/** Folders whose files the synth reads (directly or through imports). */
const SOURCE_DIRS = ['lib', 'lambda', 'core', 'harness', 'bin'];
const SOURCE_FILES = [
  'cdk.json',
  'package-lock.json',
  'tsconfig.json',
  'node_modules/aws-cdk-lib/package.json',
  'node_modules/cdk-nag/package.json',
];
/** Where the templates are kept (override for tests of this module). */
export const SYNTH_CACHE_DIR_ENV = 'KB_SYNTH_CACHE_DIR';

/** A synthesized CloudFormation template, as JSON (what `Template.toJSON()` returns). */
export interface TemplateJson {
  readonly Resources: Record<
    string,
    { readonly Type: string; readonly Properties?: Record<string, unknown> }
  >;
  readonly [section: string]: unknown;
}

/** Both stacks' templates of one test app. */
export interface AppTemplates {
  readonly storage: TemplateJson;
  readonly operations: TemplateJson;
}

/** The arguments of harness/app.ts's buildTestApp. */
export interface TestAppInputs {
  readonly context?: Record<string, unknown>;
  readonly env?: NodeJS.ProcessEnv;
  readonly stackEnv?: { readonly account: string; readonly region: string };
}

function cacheDir(): string {
  return process.env[SYNTH_CACHE_DIR_ENV] ?? join(ROOT, 'node_modules', '.cache', 'kb-dr', 'synth');
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

let sourcesHash: string | undefined;

/** Hash of every input of the synth other than the arguments (computed once per process). */
export function synthInputsHash(): string {
  if (sourcesHash) return sourcesHash;
  const hash = createHash('sha256');
  const files = [
    ...SOURCE_DIRS.flatMap((d) => filesUnder(join(ROOT, d))),
    ...SOURCE_FILES.map((f) => join(ROOT, f)),
  ].sort();
  for (const file of files) {
    hash.update(relative(ROOT, file)).update('\0');
    hash.update(existsSync(file) ? readFileSync(file) : '(missing)').update('\0');
  }
  sourcesHash = hash.digest('hex');
  return sourcesHash;
}

/** Sorted-key JSON, so the same arguments always name the same file. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** The cache file's key for these arguments and the current sources. */
export function synthCacheKey(inputs: TestAppInputs = {}): string {
  return createHash('sha256')
    .update(synthInputsHash())
    .update(
      // As buildTestApp fills them in: a test naming a default (kb:dbInstanceId kb-prod, TEST_ENV)
      // asks for the same app as one that leaves it out, and shares its file.
      canonical({
        context: { ...TEST_APP_CONTEXT, ...inputs.context },
        env: inputs.env ?? {},
        stackEnv: inputs.stackEnv ?? TEST_ENV,
      }),
    )
    .digest('hex')
    .slice(0, 32);
}

function readTemplates(file: string): AppTemplates | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AppTemplates;
  } catch {
    return undefined;
  }
}

function synthesize(inputs: TestAppInputs): AppTemplates {
  // Loaded only on a miss: a hit must not pay for loading the CDK. A static import would, and an
  // import() would make every caller async (tests build their templates at module scope).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildTestApp } = require('./app') as typeof TestApp;
  const built: KbDrApp = buildTestApp(inputs.context, inputs.env, inputs.stackEnv);
  const assembly = built.app.synth();
  return {
    storage: assembly.getStackArtifact(built.storage.artifactId).template as TemplateJson,
    operations: assembly.getStackArtifact(built.operations.artifactId).template as TemplateJson,
  };
}

/**
 * Both templates of `buildTestApp(context, env, stackEnv)`, synthesized by the first caller for the
 * current sources and read from the cache by every later one.
 */
export function testAppTemplates(inputs: TestAppInputs = {}): AppTemplates {
  const dir = cacheDir();
  const key = synthCacheKey(inputs);
  const file = join(dir, `${key}.json`);
  const cached = readTemplates(file);
  if (cached) return cached;
  mkdirSync(dir, { recursive: true });
  return onceAcrossProcesses(
    join(dir, `${key}.lock`),
    () => readTemplates(file),
    () => {
      const templates = synthesize(inputs);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(templates));
      renameSync(tmp, file); // readers see the whole file or none
      return templates;
    },
  );
}
