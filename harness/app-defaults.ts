/**
 * What harness/app.ts's buildTestApp builds with when a test does not say otherwise, in a module
 * free of the CDK, so the synth cache (synth-cache.ts) can name one app one way without loading it.
 */

/** Context every test app gets under the test's own (the protected instance). */
export const TEST_APP_CONTEXT: Readonly<Record<string, unknown>> = { 'kb:dbInstanceId': 'kb-prod' };

/** The account and region of the test app's stacks. */
export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;
