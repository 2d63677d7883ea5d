/** The restore-test construct as synthesized: fences in IAM, schedules (and none when off), event rule, dashboard. */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { testAppTemplates } from '../../../harness/synth-cache';
import { RestoreTest } from '../../../lib/constructs/restore-test';

// The templates are synthesized once for every file that asks for the same app (harness/synth-cache.ts).
const template = Template.fromJSON(
  testAppTemplates({ context: { 'aws:cdk:bundling-stacks': [] } }).operations,
);
const off = Template.fromJSON(
  testAppTemplates({ context: { 'aws:cdk:bundling-stacks': [], 'kb:restoreTestSchedule': 'off' } })
    .operations,
);

/** The policy statements of the restore-test function's role. */
function statements(t: Template): Record<string, unknown>[] {
  const fn = Object.values(
    t.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'kb-dr-restore-test' } }),
  );
  expect(fn).toHaveLength(1);
  const roleId = (fn[0]!.Properties as { Role: { 'Fn::GetAtt': [string] } }).Role['Fn::GetAtt'][0];
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(roleId))
    .flatMap(
      (p) =>
        (p.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument
          .Statement,
    );
}

describe('RestoreTest construct', () => {
  it('deploys kb-dr-restore-test with the test settings in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'kb-dr-restore-test',
      Environment: {
        Variables: Match.objectLike({
          KB_RESTORE_TEST_INSTANCE_CLASS: 'db.t4g.medium',
          KB_RESTORE_TEST_STUCK_HOURS: '6',
          KB_RESTORE_TEST_ALLOW_CONCURRENT: 'false',
        }),
      },
    });
  });

  it('may delete only kb-restore-test-* instances carrying its tag, in one statement, and nothing else', () => {
    const deletes = statements(template).filter((s) =>
      JSON.stringify(s.Action).includes('rds:DeleteDBInstance'),
    );
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatchObject({
      Effect: 'Allow',
      Condition: { StringEquals: { 'rds:db-tag/kb-dr:restore-test': 'kb-dr' } },
    });
    expect(JSON.stringify(deletes[0]!.Resource)).toMatch(/:db:kb-restore-test-\*"/);
    expect(JSON.stringify(deletes[0]!.Resource)).not.toMatch(/:db:\*"|kb-prod/);
    const all = JSON.stringify(statements(template));
    for (const action of [
      'rds:ModifyDBInstance',
      'rds:DeleteDBSnapshot',
      'rds:RestoreDBInstanceToPointInTime',
      'rds:*',
    ])
      expect(all).not.toContain(`"${action}"`);
  });

  it('restores only onto kb-restore-test-* with the kb-dr and test request tags, from a kb-dr snapshot', () => {
    const restores = statements(template).filter((s) => s.Action === 'rds:RestoreDBInstanceFromDBSnapshot');
    expect(restores).toHaveLength(2);
    expect(restores).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Condition: {
            StringEquals: {
              'aws:RequestTag/kb-dr:managed-by': 'kb-dr',
              'aws:RequestTag/kb-dr:restore-test': 'kb-dr',
            },
          },
        }),
        expect.objectContaining({
          Condition: { StringEquals: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } },
        }),
      ]),
    );
  });

  it('schedules the weekly start with the scheduled time, and the backstop pass every 30 minutes', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 4 ? * 4 *)',
      Target: Match.objectLike({
        Input: Match.serializedJson({
          source: 'kb-dr.restore-test',
          action: 'start',
          time: '<aws.scheduler.scheduled-time>',
        }),
      }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(30 minutes)',
      Target: Match.objectLike({
        Input: Match.serializedJson({ source: 'kb-dr.restore-test', action: 'pass' }),
      }),
    });
  });

  it('has no weekly schedule and no overdue alarm when the schedule is off, but keeps the pass and the rule', () => {
    const starts = Object.values(off.findResources('AWS::Scheduler::Schedule')).filter((s) =>
      JSON.stringify(s).includes('\\"action\\":\\"start\\"'),
    );
    expect(starts).toEqual([]);
    off.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(30 minutes)' });
    expect(
      off.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'KB-RestoreTestOverdue' } }),
    ).toEqual({});
    off.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'KB-RestoreTestFailed' });
  });

  it('sends the RDS instance events of kb-restore-test-* instances only', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Instance Event'],
        detail: {
          EventID: ['RDS-EVENT-0005', 'RDS-EVENT-0043', 'RDS-EVENT-0019'],
          SourceIdentifier: [{ prefix: 'kb-restore-test-' }],
        },
      },
    });
  });

  it('adds outcomes, the measured RTO against the 4 h target and the last success age to the dashboard', () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('Restore tests: outcome');
    expect(body).toContain('RestoreTestDuration');
    expect(body).toMatch(/value[\\"]*:14400,[\\"]*label[\\"]*:[\\"]*RTO target 4 h/);
    expect(body).toContain('HoursSinceLastRestoreTest');
  });

  it('refuses a pass interval the overdue alarm cannot work with', () => {
    const stack = new Stack();
    const props = {
      config: {} as never,
      storage: {} as never,
      topic: new sns.Topic(stack, 'T'),
      passInterval: Duration.hours(1),
    };
    expect(() => new RestoreTest(stack, 'RT', props)).toThrow(/passInterval must be from 1 to 30 minutes/);
  });
});
