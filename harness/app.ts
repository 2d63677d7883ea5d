/**
 * Build the real kb-dr app for tests, with cdk.json's context (feature flags included) so tests
 * synthesize what `cdk synth` does, and a fixed environment so templates are stable.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp, type KbDrApp } from '../lib/app';
import { TEST_APP_CONTEXT, TEST_ENV } from './app-defaults';

const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

export { TEST_APP_CONTEXT, TEST_ENV };

/**
 * Build the app with cdk.json context plus `context`, and only the given KB_* variables (not the
 * test runner's), in `stackEnv` (default TEST_ENV).
 */
export function buildTestApp(
  context: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
  stackEnv: { readonly account: string; readonly region: string } = TEST_ENV,
): KbDrApp {
  const app = new App({ context: { ...cdkJson.context, ...TEST_APP_CONTEXT, ...context } });
  return buildApp({ app, env, stackEnv });
}
