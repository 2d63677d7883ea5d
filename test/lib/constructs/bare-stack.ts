/**
 * A bare Stack with fake storage (a plain bucket, key, export role and log groups made in the test
 * stack), for construct tests that need neither the whole app nor asset bundling.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TEST_ENV } from '../../../harness/app';
import { loadConfig, type KbDrConfig } from '../../../lib/config';
import type { StorageResources } from '../../../lib/constructs/storage-resources';

export interface BareStack {
  readonly app: App;
  readonly stack: Stack;
  readonly storage: StorageResources;
}

/** cdk.json's context: the feature flags the app synthesizes with (partition literals, minimized policies). */
const CDK_CONTEXT = (
  JSON.parse(readFileSync(path.join(__dirname, '../../../cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/**
 * A stack in TEST_ENV with cdk.json's feature flags and cdk-nag's AwsSolutions checks wired in
 * (they run at `app.synth()` and `Template.fromStack`, so an unacknowledged finding fails the test).
 */
export function bareStack(): BareStack {
  // No asset bundling: these tests read templates, not code (check:synth bundles).
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'UnderTest', { env: TEST_ENV });
  const backupBucket = new s3.Bucket(stack, 'FakeBucket', { enforceSSL: true });
  Validations.of(backupBucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'test fixture standing in for the storage stack bucket (which logs access)',
  });
  const storage: StorageResources = {
    backupBucket,
    backupKey: new kms.Key(stack, 'FakeKey', { enableKeyRotation: true }),
    exportRole: new iam.Role(stack, 'FakeExportRole', {
      assumedBy: new iam.ServicePrincipal('export.rds.amazonaws.com'),
    }),
    backupLogGroup: logs.LogGroup.fromLogGroupName(stack, 'BackupLogs', '/aws/knowledgebase/backup'),
    restoreLogGroup: logs.LogGroup.fromLogGroupName(stack, 'RestoreLogs', '/aws/knowledgebase/restore'),
  };
  return { app, stack, storage };
}

/** The configuration `loadConfig` gives for the protected instance kb-prod plus `context` (no KB_* variables). */
export function testConfig(context: Record<string, string> = {}): KbDrConfig {
  const values: Record<string, string> = { 'kb:dbInstanceId': 'kb-prod', ...context };
  return loadConfig((key) => values[key], {});
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** The statements of the policies attached to `role` (by its logical id), in document order. */
export function statementsOfRole(
  template: { findResources(type: string): Record<string, { Properties?: unknown }> },
  roleLogicalId: string,
): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) =>
      ((p.Properties as { Roles: unknown[] }).Roles ?? []).some(
        (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap(
      (p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
    );
}

export const actionsOf = (s: Statement): string[] => [s.Action].flat();
export const resourcesOf = (s: Statement): string[] =>
  [s.Resource].flat().map((r) => (typeof r === 'string' ? r : JSON.stringify(r)));
