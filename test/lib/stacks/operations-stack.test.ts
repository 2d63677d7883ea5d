import { DEFAULT_FUNCTION_PREFIX, FUNCTIONS, deployedFunctionName } from '../../../core/functions';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ALARM_NAMES, INSTANCE_DIMENSION, METRIC_NAMESPACE } from '../../../core/metrics-catalog';
import { ENV } from '../../../lambda/shared/env';
import { RDS_ACTIONS_WITHOUT_RESOURCE_SCOPE } from '../../../lib/constructs/backup-pipeline';
import { buildTestApp } from '../../../harness/app';
import { testAppTemplates } from '../../../harness/synth-cache';

describe('OperationsStack', () => {
  // Synthesized once for every run with the same sources (harness/synth-cache.ts).
  const { operations } = testAppTemplates({
    context: {
      'kb:alarmEmails': 'oncall@example.com,dba@example.com',
      'kb:backupSchedule': '30 3 * * *',
      'kb:backupTimezone': 'Europe/London',
      // Bundling changes only the asset hashes asserted nowhere here; `npm run check:synth` bundles.
      'aws:cdk:bundling-stacks': [],
    },
  });
  const template = Template.fromJSON(operations);

  describe('on-call topic', () => {
    it('is encrypted with the notification key and refuses non-TLS publishers', () => {
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it('lets CloudWatch alarms of this account publish, and nobody else', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'AllowCloudWatchAlarmsToPublish',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
            }),
          ]),
        },
      });
      const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0];
      const allows = (
        policy?.Properties as { PolicyDocument: { Statement: { Effect: string }[] } }
      ).PolicyDocument.Statement.filter((s) => s.Effect === 'Allow');
      expect(allows).toHaveLength(1);
    });

    it('subscribes every configured e-mail address', () => {
      for (const email of ['oncall@example.com', 'dba@example.com']) {
        template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
      }
      template.resourceCountIs('AWS::SNS::Subscription', 2);
    });
  });

  describe('functions', () => {
    // CDK's own AwsCustomResource provider (deploy-time only, ensures the test-event registry) is
    // not a kb-dr function; everything else is.
    const CDK_PROVIDER = /^AWS679f53fac002430cb0da5b7982bd2287/;
    const functions = Object.fromEntries(
      Object.entries(template.findResources('AWS::Lambda::Function')).filter(
        ([id]) => !CDK_PROVIDER.test(id),
      ),
    );

    it("are the nine kb-dr functions (verify-restore and restore-test included) plus only CDK's custom-resource provider", () => {
      expect(Object.keys(functions)).toHaveLength(9);
      expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(10);
    });

    it('run on the latest Node.js runtime on ARM64 with Powertools settings and the KB namespace', () => {
      expect(Object.keys(functions).length).toBeGreaterThan(0);
      for (const fn of Object.values(functions)) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          Environment: {
            Variables: expect.objectContaining({
              POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
              POWERTOOLS_SERVICE_NAME: expect.stringMatching(/^kb-/),
              [ENV.dbInstanceId]: 'kb-prod',
            }),
          },
          LoggingConfig: expect.objectContaining({
            LogFormat: 'JSON',
            LogGroup: expect.stringMatching(/^\/aws\/knowledgebase\//),
          }),
        });
      }
    });

    it('do not turn on --enable-source-maps (it costs at load and on every thrown error: bench/function-cold-load.ts)', () => {
      for (const fn of Object.values(functions)) {
        const variables = (fn.Properties as { Environment: { Variables: Record<string, unknown> } })
          .Environment.Variables;
        expect(variables).not.toHaveProperty('NODE_OPTIONS');
      }
    });

    it('write the backup function logs to /aws/knowledgebase/backup', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('nightly backup'),
        LoggingConfig: { LogGroup: '/aws/knowledgebase/backup', LogFormat: 'JSON' },
        Timeout: Match.anyValue(),
      });
    });

    it('have roles with no managed policies, writing only to their own log group', () => {
      const roles = Object.fromEntries(
        Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => !CDK_PROVIDER.test(id)),
      );
      for (const role of Object.values(roles)) {
        expect((role.Properties as { ManagedPolicyArns?: unknown }).ManagedPolicyArns).toBeUndefined();
      }
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Sid: 'WriteOwnLogGroup',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource:
                'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/knowledgebase/backup:log-stream:*',
            },
          ]),
        },
      });
    });

    it('never grant an action on every resource, except actions that support no resource scope', () => {
      const unscopable = new Set<string>(RDS_ACTIONS_WITHOUT_RESOURCE_SCOPE);
      const policies = template.findResources('AWS::IAM::Policy');
      for (const p of Object.values(policies)) {
        for (const s of (
          p.Properties as { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } }
        ).PolicyDocument.Statement) {
          if ([s.Action].flat().every((a) => unscopable.has(String(a)))) continue;
          expect([s.Resource].flat()).not.toContain('*');
        }
      }
    });
  });

  describe('nightly schedule', () => {
    it('runs the configured cron in the configured time zone and passes the scheduled time', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(30 3 * * ? *)',
        ScheduleExpressionTimezone: 'Europe/London',
        State: 'ENABLED',
        Target: {
          Arn: Match.anyValue(),
          Input: Match.serializedJson({ source: 'kb-dr.schedule', time: '<aws.scheduler.scheduled-time>' }),
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 7200 },
        },
      });
    });
  });

  describe('alarms', () => {
    const dims = [{ Name: INSTANCE_DIMENSION, Value: 'kb-prod' }];
    const topicRef = { Ref: Match.stringLikeRegexp('^OnCallTopic') };

    it('KB-BackupFailure is a composite of "no success in 25 h" OR "last run failed", notifying on ALARM and OK', () => {
      template.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
        AlarmName: ALARM_NAMES.backupFailure,
        AlarmRule: {
          'Fn::Join': [
            '',
            [
              '(ALARM("',
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsNoRecentSuccess'), 'Arn'] },
              '") OR ALARM("',
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsLastRunFailed'), 'Arn'] },
              '"))',
            ],
          ],
        },
        AlarmActions: [topicRef],
        OKActions: [topicRef],
      });
    });

    it('"no success in 25 h" watches TimeSinceLastBackup and treats silence as breaching', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: ALARM_NAMES.backupStale,
        Namespace: METRIC_NAMESPACE,
        MetricName: 'TimeSinceLastBackup',
        Dimensions: dims,
        Statistic: 'Maximum',
        Period: 3600,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 25,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
      });
    });

    it('"last run failed" watches BackupFailure and holds its state between runs', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: ALARM_NAMES.backupRunFailed,
        Namespace: METRIC_NAMESPACE,
        MetricName: 'BackupFailure',
        Dimensions: dims,
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'ignore',
      });
    });

    it('the child alarms notify nobody themselves (the composite does)', () => {
      const alarms = template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: Match.stringLikeRegexp('^KB-BackupFailure-') },
      });
      expect(Object.keys(alarms)).toHaveLength(2);
      for (const a of Object.values(alarms))
        expect((a.Properties as { AlarmActions?: unknown }).AlarmActions).toBeUndefined();
    });

    it('KB-BackupDurationHigh fires when a backup takes longer than 30 minutes, notifying on ALARM and OK', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: ALARM_NAMES.backupDurationHigh,
        Namespace: METRIC_NAMESPACE,
        MetricName: 'BackupDuration',
        Dimensions: dims,
        Statistic: 'Maximum',
        Period: 3600,
        Threshold: 1800,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef],
        OKActions: [topicRef],
      });
    });
  });

  describe('KB-EntryCountDrop', () => {
    const dims = [{ Name: INSTANCE_DIMENSION, Value: 'kb-prod' }];
    const topicRef = { Ref: Match.stringLikeRegexp('^OnCallTopic') };

    it('fires when a backup lost more than 20% of its entries (EntryCountDropFraction > 0.2), notifying on ALARM and OK', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: ALARM_NAMES.entryCountDrop,
        Namespace: METRIC_NAMESPACE,
        MetricName: 'EntryCountDropFraction',
        Dimensions: dims,
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0.2,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'ignore',
        AlarmActions: [topicRef],
        OKActions: [topicRef],
      });
    });
  });

  describe('dashboard', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(Object.values(dashboards)[0]?.Properties);

    it('shows success/failure over 24 h, 7 d and 30 d', () => {
      for (const title of ['Backups, last 24 hours', 'Backups, last 7 days', 'Backups, last 30 days']) {
        expect(body).toContain(title);
      }
      for (const range of ['-PT24H', '-P7D', '-P30D']) expect(body).toContain(`\\"start\\":\\"${range}\\"`);
    });

    it.each([
      'TimeSinceLastBackup',
      'BackupDuration',
      'ExportDuration',
      'BackupSizeBytes',
      'BackupValidation',
      'RestoreDuration',
      'AutomatedBackupRetentionDays',
      'KnowledgeEntries',
      'EntryCountDropFraction',
      'RestoreVerification',
    ])('graphs %s with the instance dimension', (metric) => {
      expect(body).toContain(`[\\"KB\\",\\"${metric}\\",\\"DBInstanceIdentifier\\",\\"kb-prod\\"`);
    });

    it("shows both alarms' states", () => {
      const [composite] = Object.keys(template.findResources('AWS::CloudWatch::CompositeAlarm'));
      const [duration] = Object.keys(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { AlarmName: ALARM_NAMES.backupDurationHigh },
        }),
      );
      expect(body).toContain('\\"type\\":\\"alarm\\"');
      expect(body).toContain(`{"Fn::GetAtt":["${composite}","Arn"]}`);
      expect(body).toContain(`{"Fn::GetAtt":["${duration}","Arn"]}`);
    });

    it('shows the KB-EntryCountDrop state and its threshold line', () => {
      const [drop] = Object.keys(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { AlarmName: ALARM_NAMES.entryCountDrop },
        }),
      );
      expect(body).toContain(`{"Fn::GetAtt":["${drop}","Arn"]}`);
      expect(body).toContain('KB-EntryCountDrop threshold');
    });
  });

  it('deploys every function as <prefix>-<name>, the backup and reconcile functions included', () => {
    const names = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (r) => (r as { Properties: { FunctionName?: unknown } }).Properties.FunctionName,
    );
    expect([...names].sort()).toEqual(
      [...FUNCTIONS].map((fn) => deployedFunctionName(DEFAULT_FUNCTION_PREFIX, fn)).sort(),
    );
  });

  it('keeps the logical ids the restore side had before it was split into constructs (deployed resources are not replaced)', () => {
    const ids = Object.keys(template.toJSON().Resources as Record<string, unknown>);
    expect(ids).toEqual(
      expect.arrayContaining([
        'RestoreFunctionsValidateBackupFunctionE969420D',
        'RestoreFunctionsValidationSchedulerRole895A99E9',
        'RestoreFunctionsValidationSchedulerRoleDefaultPolicy0CDD06B2',
        'RestoreFunctionsWeeklyValidationAA252E96',
        'RestoreFunctionsEnsureTestEventRegistry34F06102',
        'RestoreFunctionsEnsureTestEventRegistryLogsD1E057AB',
        'RestoreFunctionsRestoreSnapshotTestEvents7FD0137A',
        'RestoreFunctionsPromoteRestoreTestEventsEEDE570A',
        'RestoreVerificationVerifyRestoreTestEvents4A28D22A',
      ]),
    );
    // Six schemas (five restore functions and verify-restore), all created after the registry call.
    const schemas = Object.values(template.findResources('AWS::EventSchemas::Schema'));
    expect(schemas).toHaveLength(6);
    for (const s of schemas) expect(s.DependsOn).toContain('RestoreFunctionsEnsureTestEventRegistry34F06102');
  });

  it('outputs what an operator needs: topic, function names, dashboard URL', () => {
    template.hasOutput('OnCallTopicArn', {});
    template.hasOutput('BackupFunctionName', {});
    template.hasOutput('ReconcileFunctionName', {});
    template.hasOutput('DashboardUrl', {
      Value:
        'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=KB-Backup',
    });
  });

  describe('shareable console test events', () => {
    it('are provisioned by default: one schema per docs/events file, and the registry call', () => {
      expect(Object.keys(template.findResources('AWS::EventSchemas::Schema')).length).toBeGreaterThan(0);
      expect(
        Object.keys(template.findResources('Custom::AWS')).some(
          (id) => !id.includes('ProtectedInstanceTags'),
        ),
      ).toBe(true);
    });

    it('provisions no test events and no registry call when they are off', () => {
      const off = Template.fromJSON(
        testAppTemplates({ context: { 'aws:cdk:bundling-stacks': [], 'kb:shareableTestEvents': 'false' } })
          .operations,
      );
      off.resourceCountIs('AWS::EventSchemas::Schema', 0);
      // Only the protected-instance tag calls remain.
      const calls = Object.keys(off.findResources('Custom::AWS'));
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.filter((id) => !id.includes('ProtectedInstanceTags'))).toEqual([]);
    });

    it('refuses a test-events flag that is not a boolean, at synth', () => {
      expect(() => buildTestApp({ 'aws:cdk:bundling-stacks': [], 'kb:shareableTestEvents': 'yes' })).toThrow(
        /KB_SHAREABLE_TEST_EVENTS \(context kb:shareableTestEvents\) = "yes"/,
      );
    });
  });
});
