/**
 * verify-restore's deployment: not configured (no VPC settings) it runs outside any VPC and records
 * NOT_CONFIGURED; configured it runs in the VPC with its security group and may log in only as the
 * read-only role (IAM) or read only the configured secret. cdk-nag passes in every mode.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { testAppTemplates } from '../../../harness/synth-cache';
import { loadConfig } from '../../../lib/config';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const VPC = {
  'kb:verifyVpcId': 'vpc-0a1b2c3d4e5f67890',
  'kb:verifySubnetIds': 'subnet-0a1b2c3d4e5f67890,subnet-0f9e8d7c6b5a43210',
  'kb:verifySecurityGroupId': 'sg-0a1b2c3d4e5f67890',
};
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kb-verify-AbCdEf';

/** The operations template; cdk-nag runs in its synth (an unacknowledged finding throws), once per app and sources (harness/synth-cache.ts). */
function synth(context: Record<string, unknown>) {
  return Template.fromJSON(testAppTemplates({ context: { ...NO_BUNDLING, ...context } }).operations);
}
const verifyFn = { FunctionName: 'kb-dr-verify-restore' };
const statusFn = { FunctionName: 'kb-dr-restore-status' };
function policyOf(t: Template, fnName: string): Record<string, unknown>[] {
  const fns = t.findResources('AWS::Lambda::Function', { Properties: { FunctionName: fnName } });
  const role = JSON.stringify((Object.values(fns)[0]?.Properties as { Role: unknown }).Role);
  const roleId = /"Fn::GetAtt":\["(\w+)"/.exec(role)?.[1] ?? '';
  const policies = t.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
}

describe('verify-restore not configured (no VPC settings)', () => {
  const t = synth({});
  it('is deployed outside any VPC, told it is not configured, and restore-status knows it', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      ...verifyFn,
      VpcConfig: Match.absent(),
      Environment: { Variables: Match.objectLike({ KB_VERIFY_MODE: 'not-configured' }) },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      ...statusFn,
      Environment: { Variables: Match.objectLike({ KB_VERIFY_MODE: 'not-configured' }) },
    });
  });
  it('may not connect to any database', () => {
    const actions = policyOf(t, 'kb-dr-verify-restore').flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('rds-db:connect');
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
  });
  it('runs on RDS restore events for kb-restore-* and on a 15-minute backstop pass', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Instance Event'],
        detail: {
          EventID: ['RDS-EVENT-0005', 'RDS-EVENT-0008', 'RDS-EVENT-0019'],
          SourceIdentifier: [{ prefix: 'kb-restore-' }],
        },
      },
    });
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      Target: Match.objectLike({ Input: '{"pass":true}' }),
    });
  });
  it('offers the docs/events examples as shareable console test events', () => {
    const schemas = t.findResources('AWS::EventSchemas::Schema', {
      Properties: { SchemaName: '_kb-dr-verify-restore-schema' },
    });
    const content = JSON.parse(String(Object.values(schemas)[0]?.Properties.Content)) as {
      components: { examples: Record<string, unknown> };
    };
    expect(Object.keys(content.components.examples).sort()).toEqual(['by-id', 'pitr-expected', 'reverify']);
  });
});

describe('verify-restore with IAM database authentication (the default)', () => {
  const t = synth(VPC);
  it('runs in the VPC subnets with its security group', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      ...verifyFn,
      VpcConfig: {
        SubnetIds: ['subnet-0a1b2c3d4e5f67890', 'subnet-0f9e8d7c6b5a43210'],
        SecurityGroupIds: ['sg-0a1b2c3d4e5f67890'],
      },
      Environment: {
        Variables: Match.objectLike({ KB_VERIFY_MODE: 'iam', KB_VERIFY_DB_USER: 'kb_verify' }),
      },
    });
  });
  it('may connect as kb_verify only', () => {
    const connect = policyOf(t, 'kb-dr-verify-restore').filter((s) =>
      [s.Action].flat().includes('rds-db:connect'),
    );
    expect(connect).toHaveLength(1);
    expect(JSON.stringify(connect[0]?.Resource)).toMatch(/:dbuser:\*\/kb_verify"/);
  });
});

describe('verify-restore with a Secrets Manager login', () => {
  const t = synth({ ...VPC, 'kb:verifyAuth': 'secret', 'kb:verifySecretArn': SECRET });
  it('reads that secret only and holds no rds-db:connect', () => {
    const statements = policyOf(t, 'kb-dr-verify-restore');
    const secret = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(secret.map((s) => s.Resource)).toEqual([SECRET]);
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('rds-db:connect');
  });
});

describe('verification settings are validated at synth', () => {
  const ctx = (extra: Record<string, unknown>) => (k: string) =>
    ({ 'kb:dbInstanceId': 'kb-prod', ...extra })[k];
  it.each([
    [
      { 'kb:verifyVpcId': VPC['kb:verifyVpcId'] },
      /KB_VERIFY_SUBNET_IDS .* is required with KB_VERIFY_VPC_ID/,
    ],
    [
      { ...VPC, 'kb:verifyVpcId': 'vpc-xyz' },
      /KB_VERIFY_VPC_ID .*"vpc-xyz" is not a VPC id; .*e\.g\. KB_VERIFY_VPC_ID="vpc-0a1b2c3d4e5f67890"/,
    ],
    [{ ...VPC, 'kb:verifySubnetIds': 'subnet-0a1b2c3d,sub-1' }, /"sub-1" is not a subnet id/],
    [
      { ...VPC, 'kb:verifySecurityGroupId': 'sg-1' },
      /KB_VERIFY_SECURITY_GROUP_ID .* is not a security group id/,
    ],
    [{ ...VPC, 'kb:verifyAuth': 'password' }, /KB_VERIFY_AUTH .* must be iam or secret/],
    [{ ...VPC, 'kb:verifyAuth': 'secret' }, /KB_VERIFY_SECRET_ARN .* is required when KB_VERIFY_AUTH=secret/],
    [{ ...VPC, 'kb:verifySecretArn': SECRET }, /is only used with KB_VERIFY_AUTH=secret/],
    [
      { ...VPC, 'kb:verifyDbUser': 'kb_verify*' },
      /KB_VERIFY_DB_USER .* must be a lower-case PostgreSQL role name/,
    ],
    [{ 'kb:verifyAuth': 'secret', 'kb:verifySecretArn': SECRET }, /KB_VERIFY_VPC_ID .* must be set/],
  ])('refuses %j', (extra, message) => {
    expect(() => loadConfig(ctx(extra), {})).toThrow(message);
  });
  it('no VPC settings: verification undefined (deployed as NOT_CONFIGURED)', () => {
    expect(loadConfig(ctx({}), {}).verification).toBeUndefined();
  });
  it('all three: IAM auth as kb_verify on knowledge_base by default', () => {
    expect(loadConfig(ctx(VPC), {}).verification).toEqual({
      vpcId: 'vpc-0a1b2c3d4e5f67890',
      subnetIds: ['subnet-0a1b2c3d4e5f67890', 'subnet-0f9e8d7c6b5a43210'],
      securityGroupId: 'sg-0a1b2c3d4e5f67890',
      auth: 'iam',
      dbUser: 'kb_verify',
      database: 'knowledge_base',
    });
  });
});
