/**
 * A function's real handler as Lambda loads it (configuration, clients and Powertools built at
 * module scope), from the test file's own module registry, so `mockClient(RDSClient)` and
 * `mockClient(S3Client)` in that file apply to its clients.
 */
import type { KbFunctionName } from '../../../core/functions';
import { ENV } from '../../../lambda/shared/env';

/** The environment the constructs give every function, with unit-test values. */
export const HANDLER_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  [ENV.dbInstanceId]: 'kb-prod',
  [ENV.backupBucket]: 'kb-dr-backups-test',
  [ENV.exportRoleArn]: 'arn:aws:iam::123456789012:role/kb-dr-export',
  [ENV.kmsKeyArn]: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  [ENV.productionInstanceIds]: 'kb-prod,kb-prod-replica',
  // POWERTOOLS_DEV (test/setup.ts) turns metrics off unless this says otherwise.
  POWERTOOLS_METRICS_DISABLED: 'false',
};

/** A handler as tests call it: the event, and optionally a Lambda context. */
export type TestHandler = (event: unknown, context?: unknown) => Promise<unknown>;

/** `lambda/<fn>/index.ts`'s handler, loaded after setting HANDLER_ENV (plus `env`). */
export function loadHandler(fn: KbFunctionName, env: Readonly<Record<string, string>> = {}): TestHandler {
  Object.assign(process.env, HANDLER_ENV, env);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(`../../../lambda/${fn}/index`) as { handler: TestHandler }).handler;
}
