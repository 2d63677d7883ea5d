import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BackupPipeline, RDS_ACTIONS_WITHOUT_RESOURCE_SCOPE } from '../../../lib/constructs/backup-pipeline';
import { loadConfig } from '../../../lib/config';
import { PIPELINE_EVENT_IDS } from '../../../core/rds-event';
import { MANAGED_BY_TAG, SNAPSHOT_PREFIX } from '../../../core/naming';
import { TEST_ENV } from '../../../harness/app';
import { testAppTemplates } from '../../../harness/synth-cache';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

// No asset bundling: these tests read the template, not the code (bundling is checked by `npm run check:synth`).
// The templates are synthesized once for every file that asks for the same app (harness/synth-cache.ts).
const template = Template.fromJSON(
  testAppTemplates({ context: { 'aws:cdk:bundling-stacks': [] } }).operations,
);
const region = TEST_ENV.region;
const account = TEST_ENV.account;
const instanceArn = `arn:aws:rds:${region}:${account}:db:kb-prod`;
const kbSnapshotsArn = `arn:aws:rds:${region}:${account}:snapshot:${SNAPSHOT_PREFIX}*`;

function logicalIdOfFunction(descriptionPattern: RegExp): string {
  const fns = template.findResources('AWS::Lambda::Function');
  const match = Object.entries(fns).filter(([, r]) =>
    descriptionPattern.test(String((r.Properties as { Description?: string }).Description)),
  );
  expect(match).toHaveLength(1);
  return match[0]![0];
}

/** The statements of the policies attached to a function's role. */
function statementsOf(functionLogicalId: string): Statement[] {
  const fn = template.findResources('AWS::Lambda::Function')[functionLogicalId]!;
  const roleId = (fn.Properties as { Role: { 'Fn::GetAtt': [string, string] } }).Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(roleId))
    .flatMap(
      (p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
    );
}

function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((s) => [s.Action].flat());
}

function statementWith(statements: Statement[], action: string): Statement {
  const found = statements.filter((s) => [s.Action].flat().includes(action));
  expect(found).toHaveLength(1);
  return found[0]!;
}

const backupId = logicalIdOfFunction(/nightly backup/);
const reconcileId = logicalIdOfFunction(/reconcile/);
const backupStatements = statementsOf(backupId);
const reconcileStatements = statementsOf(reconcileId);

describe('BackupPipeline', () => {
  describe('functions', () => {
    it('bundles lambda/backup and lambda/reconcile, both logging to /aws/knowledgebase/backup', () => {
      for (const id of [backupId, reconcileId]) {
        expect(template.findResources('AWS::Lambda::Function')[id]!.Properties).toMatchObject({
          LoggingConfig: { LogGroup: '/aws/knowledgebase/backup' },
          Handler: 'index.handler',
        });
      }
    });
  });

  describe('backup function IAM', () => {
    it('creates snapshots of the protected instance named kb-snapshot-* only', () => {
      expect(statementWith(backupStatements, 'rds:CreateDBSnapshot').Resource).toEqual([
        instanceArn,
        kbSnapshotsArn,
      ]);
      expect(statementWith(backupStatements, 'rds:AddTagsToResource').Resource).toBe(kbSnapshotsArn);
      expect(statementWith(backupStatements, 'rds:DescribeDBInstances').Resource).toBe(instanceArn);
    });

    it('cannot export, delete snapshots or pass roles', () => {
      const actions = actionsOf(backupStatements);
      for (const forbidden of [
        'rds:StartExportTask',
        'rds:DeleteDBSnapshot',
        'iam:PassRole',
        'kms:CreateGrant',
      ]) {
        expect(actions).not.toContain(forbidden);
      }
    });
  });

  describe('reconcile function IAM', () => {
    it('deletes only kb-snapshot-* snapshots that carry the kb-dr tag', () => {
      expect(statementWith(reconcileStatements, 'rds:DeleteDBSnapshot')).toMatchObject({
        Resource: kbSnapshotsArn,
        Condition: { StringEquals: { [`rds:snapshot-tag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
      });
    });

    it('passes only the export role, and may create grants only on the backup key', () => {
      expect(JSON.stringify(statementWith(reconcileStatements, 'iam:PassRole').Resource)).toMatch(
        /SnapshotExportRole/,
      );
      const grant = statementWith(reconcileStatements, 'kms:CreateGrant');
      expect([grant.Action].flat().sort()).toEqual(['kms:CreateGrant', 'kms:DescribeKey']);
      expect(JSON.stringify(grant.Resource)).toMatch(/BackupKeyArn/);
    });

    it('uses * only for DescribeExportTasks; exports start only from kb-snapshot-* snapshots', () => {
      const unscoped = reconcileStatements.filter((s) => [s.Resource].flat().includes('*'));
      expect(unscoped).toHaveLength(1);
      expect([unscoped[0]!.Action].flat().sort()).toEqual([...RDS_ACTIONS_WITHOUT_RESOURCE_SCOPE].sort());
      expect(RDS_ACTIONS_WITHOUT_RESOURCE_SCOPE).not.toContain('rds:StartExportTask');
      expect(statementWith(reconcileStatements, 'rds:StartExportTask').Resource).toBe(kbSnapshotsArn);
    });

    it('passes the export role only to the RDS export service', () => {
      expect(statementWith(reconcileStatements, 'iam:PassRole').Condition).toEqual({
        StringEquals: { 'iam:PassedToService': ['export.rds.amazonaws.com', 'rds.amazonaws.com'] },
      });
    });

    it('reads and writes only the manifests/ prefix; lists the bucket without a prefix condition (404, not 403)', () => {
      for (const statements of [backupStatements, reconcileStatements]) {
        const rw = statementWith(statements, 's3:PutObject');
        expect(JSON.stringify(rw.Resource)).toMatch(/"\/manifests\/\*"/);
        expect(statementWith(statements, 's3:ListBucket').Condition).toBeUndefined();
        expect(actionsOf(statements)).not.toContain('s3:DeleteObject');
      }
    });

    it("still finds the snapshots of production's aside copy after a promotion", () => {
      for (const statements of [backupStatements, reconcileStatements]) {
        expect(JSON.stringify(statementWith(statements, 'rds:DescribeDBSnapshots').Resource)).toContain(
          ':db:kb-prod-pre-promote-*',
        );
      }
    });
  });

  describe('triggers', () => {
    it('runs the reconcile pass every 15 minutes, with a payload that is not an RDS event', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'rate(15 minutes)',
        Target: {
          Arn: { 'Fn::GetAtt': [reconcileId, 'Arn'] },
          Input: Match.serializedJson({ source: 'kb-dr.reconcile', time: '<aws.scheduler.scheduled-time>' }),
        },
      });
    });

    it('sends kb-dr snapshot-created events to the reconcile function', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.rds'],
          'detail-type': ['RDS DB Snapshot Event'],
          detail: {
            EventID: [PIPELINE_EVENT_IDS.snapshotCreated],
            SourceIdentifier: [{ prefix: SNAPSHOT_PREFIX }],
          },
        },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [reconcileId, 'Arn'] } })],
      });
    });

    it('sends export completed, failed and canceled events to the reconcile function', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.rds'],
          detail: {
            EventID: [
              PIPELINE_EVENT_IDS.exportCompleted,
              PIPELINE_EVENT_IDS.exportFailed,
              PIPELINE_EVENT_IDS.exportCanceled,
            ],
          },
        },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [reconcileId, 'Arn'] } })],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [reconcileId, 'Arn'] },
      });
    });
  });

  describe('props', () => {
    function standalone(reconcileInterval: Duration): void {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'S', { env: TEST_ENV });
      const key = new kms.Key(stack, 'Key');
      new BackupPipeline(stack, 'P', {
        config: loadConfig((k) => ({ 'kb:dbInstanceId': 'kb-prod' })[k]),
        storage: {
          backupBucket: new s3.Bucket(stack, 'Bucket'),
          backupKey: key,
          exportRole: new iam.Role(stack, 'Export', {
            assumedBy: new iam.ServicePrincipal('export.rds.amazonaws.com'),
          }),
          backupLogGroup: new logs.LogGroup(stack, 'Logs'),
          restoreLogGroup: new logs.LogGroup(stack, 'RestoreLogs'),
        },
        reconcileInterval,
      });
    }

    it('builds when the storage resources live in the same stack (no cross-stack export)', () => {
      expect(() => standalone(Duration.minutes(10))).not.toThrow();
    });

    it('refuses a reconcile interval that could leave an hourly alarm period empty', () => {
      expect(() => standalone(Duration.hours(1))).toThrow(/reconcileInterval must be from 1 to 30 minutes/);
    });
  });
});
