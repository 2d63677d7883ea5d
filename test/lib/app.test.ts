import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BackupAlarms } from '../../lib/constructs/backup-alarms';
import { KbFunction } from '../../lib/constructs/kb-function';
import * as logs from 'aws-cdk-lib/aws-logs';
import { buildTestApp } from '../../harness/app';

describe('kb-dr app', () => {
  it('synthesizes both stacks with zero unacknowledged cdk-nag AwsSolutions findings', () => {
    // Without bundling the functions' code (esbuild for each, ~20 s of CPU): cdk-nag reads the
    // resources, not the code, so its findings are the same either way. `npm run check:synth`
    // (scripts/ci/check-synth.sh) runs the real `cdk synth` with every function bundled and fails
    // on any finding of any validation plugin.
    const { app } = buildTestApp({ 'kb:alarmEmails': 'oncall@example.com', 'aws:cdk:bundling-stacks': [] });
    const assembly = app.synth();
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['KbDrOperations', 'KbDrStorage']);
  });

  it('fails synth when a construct adds an unacknowledged wildcard (cdk-nag is wired into every synth)', () => {
    // Prepare (cdk-nag runs at every synth, bundled or not: check:synth's real `cdk synth` bundles)
    const { app, operations } = buildTestApp({ 'aws:cdk:bundling-stacks': [] });
    const role = new iam.Role(operations, 'Careless', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    // Act + Assess
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::s3:\*\]/);
  });

  it('fails synth with the setting name when the protected instance is missing', () => {
    expect(() => buildTestApp({ 'kb:dbInstanceId': undefined })).toThrow(/KB_DB_INSTANCE_ID=kb-prod/);
  });
});

describe('construct props validation', () => {
  const stack = new Stack(new App(), 'Props');
  const logGroup = logs.LogGroup.fromLogGroupName(stack, 'Logs', '/aws/knowledgebase/backup');

  it('KbFunction refuses a functionDir that is not a kebab-case folder name', () => {
    expect(
      () => new KbFunction(stack, 'BadDir', { functionDir: '../etc', description: 'x', logGroup }),
    ).toThrow(/functionDir "..\/etc" must be a kebab-case folder under lambda\//);
  });

  it("KbFunction refuses a timeout beyond Lambda's 15 minutes", () => {
    expect(
      () =>
        new KbFunction(stack, 'TooLong', {
          functionDir: 'backup',
          description: 'x',
          logGroup,
          timeout: Duration.minutes(16),
        }),
    ).toThrow(/timeout 960 s exceeds Lambda's 900 s maximum/);
  });

  it('BackupAlarms refuses a staleness threshold beyond 7 days', () => {
    const topic = new sns.Topic(stack, 'Topic');
    expect(
      () => new BackupAlarms(stack, 'A', { dbInstanceId: 'kb-prod', topic, maxHoursSinceLastBackup: 200 }),
    ).toThrow(/maxHoursSinceLastBackup must be between 0 and 168 hours, got 200/);
  });
});
