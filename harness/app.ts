/**
 * Build the real kb-dr app for tests, with cdk.json's context (feature flags included) so tests
 * synthesize what `cdk synth` does, and a fixed environment so templates are stable.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp, type KbDrApp } from '../lib/app';

const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

/**
 * Build the app with cdk.json context plus `context`, and only the given KB_* variables (not the
 * test runner's), in `stackEnv` (default TEST_ENV).
 */
export function buildTestApp(
  context: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
  stackEnv: { readonly account: string; readonly region: string } = TEST_ENV,
): KbDrApp {
  const app = new App({ context: { ...cdkJson.context, 'kb:dbInstanceId': 'kb-prod', ...context } });
  return buildApp({ app, env, stackEnv });
}
