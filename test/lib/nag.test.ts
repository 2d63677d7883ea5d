import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  acknowledge,
  acknowledgeWildcard,
  crossStackArn,
  nagArnPrefix,
  nagArnRef,
  nagFindingId,
} from '../../lib/nag';

const ENV = { account: '123456789012', region: 'eu-west-1' };

describe('nagArnRef', () => {
  it("renders a construct's default resource as <LogicalId.Arn>", () => {
    const stack = new Stack(new App(), 'S');
    const bucket = new s3.Bucket(stack, 'Backups');
    expect(nagArnRef(bucket)).toBe(`<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>`);
    expect(nagArnRef(bucket)).toMatch(/^<Backups[0-9A-F]{8}\.Arn>$/);
  });

  it('refuses a construct without a default CloudFormation resource, naming its path', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => nagArnRef(new Construct(stack, 'Empty'))).toThrow(
      'nagArnRef: S/Empty has no default CloudFormation resource',
    );
  });
});

describe('nagArnPrefix', () => {
  it('uses the pseudo parameters of an environment-agnostic stack', () => {
    const stack = new Stack(new App(), 'S');
    expect(nagArnPrefix(stack, 'logs')).toBe('arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:');
  });

  it('uses the literal region and account of a stack with an environment', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    expect(nagArnPrefix(stack, 'rds')).toBe('arn:<AWS::Partition>:rds:eu-west-1:123456789012:');
  });
});

describe('acknowledgeWildcard', () => {
  function synthWithWildcards(acknowledge: (role: iam.Role) => void): () => void {
    const app = new App();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'S', { env: ENV });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:Get*'], resources: ['arn:aws:s3:::kb-bucket/*'] }),
    );
    acknowledge(role);
    return () => app.synth();
  }

  it('without an acknowledgement, synth fails on both the action and the resource wildcard', () => {
    expect(synthWithWildcards(() => undefined)).toThrow(/AwsSolutions-IAM5\[Action::s3:Get\*\]/);
    expect(synthWithWildcards(() => undefined)).toThrow(
      /AwsSolutions-IAM5\[Resource::arn:aws:s3:::kb-bucket\/\*\]/,
    );
  });

  it('acknowledges exactly the finding it names: the action alone leaves the resource finding', () => {
    const synth = synthWithWildcards((role) =>
      acknowledgeWildcard(role, { action: 's3:Get*' }, 'reads any object of its own bucket'),
    );
    expect(synth).toThrow(/AwsSolutions-IAM5\[Resource::arn:aws:s3:::kb-bucket\/\*\]/);
    expect(synth).not.toThrow(/AwsSolutions-IAM5\[Action::s3:Get\*\]/);
  });

  it('with both acknowledged, synth passes', () => {
    const synth = synthWithWildcards((role) => {
      acknowledgeWildcard(role, { action: 's3:Get*' }, 'reads any object of its bucket');
      acknowledgeWildcard(role, { resource: 'arn:aws:s3:::kb-bucket/*' }, 'object keys are generated');
    });
    expect(synth).not.toThrow();
  });
});

describe('crossStackArn', () => {
  it('in the same stack, is the ARN itself and its <LogicalId.Arn> finding name', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Backups');
    expect(crossStackArn(stack, bucket, bucket.bucketArn)).toEqual({
      value: bucket.bucketArn,
      nag: nagArnRef(bucket),
    });
  });

  it("across stacks, is the producer's export imported, named after that export", () => {
    // Prepare
    const app = new App();
    const storage = new Stack(app, 'Storage', { env: ENV });
    const operations = new Stack(app, 'Operations', { env: ENV });
    const bucket = new s3.Bucket(storage, 'Backups');
    // Act
    const { value, nag } = crossStackArn(operations, bucket, bucket.bucketArn);
    // Assess
    expect(operations.resolve(value)).toEqual({ 'Fn::ImportValue': nag });
    expect(nag).toMatch(/^Storage:ExportsOutputFnGetAttBackups[0-9A-F]{8}Arn[0-9A-F]{8}$/);
  });
});

describe('acknowledge', () => {
  const REASON = 'object keys are generated per backup';
  const roleIn = () => {
    const stack = new Stack(new App(), 'S');
    return new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  };
  const acknowledgedOn = (role: iam.Role) =>
    role.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').map((m) => m.data as unknown);

  it.each([
    [
      { rule: 'AwsSolutions-IAM5', resource: '<Bucket.Arn>/*', reason: REASON },
      'AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]',
    ],
    [{ rule: 'AwsSolutions-IAM5', action: 's3:Get*', reason: REASON }, 'AwsSolutions-IAM5[Action::s3:Get*]'],
    [
      { rule: 'AwsSolutions-IAM4', policy: 'arn:<AWS::Partition>:iam::aws:policy/X', reason: REASON },
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/X]',
    ],
    [{ rule: 'AwsSolutions-S1', reason: REASON }, 'AwsSolutions-S1'],
  ])('names %j as cdk-nag reports it', (ack, id) => {
    expect(nagFindingId(ack)).toBe(id);
  });

  it('records the acknowledgement with its reason on the construct it names, and nowhere else', () => {
    const role = roleIn();
    acknowledge(role, { rule: 'AwsSolutions-IAM5', resource: '*', reason: REASON });
    expect(acknowledgedOn(role)).toEqual([{ 'Annotation::AwsSolutions-IAM5[Resource::*]': REASON }]);
    expect(Stack.of(role).node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')).toEqual([]);
  });

  it.each([
    [{ rule: '', resource: '*', reason: REASON }, /"" is not a rule id; .*e\.g\. "AwsSolutions-IAM5"/],
    [{ rule: 'IAM5', resource: '*', reason: REASON }, /"IAM5" is not a rule id/],
    [{ rule: 'AwsSolutions-IAM5[Resource::*]', reason: REASON }, /is not a rule id/],
    [
      { rule: 'AwsSolutions-IAM5', reason: REASON },
      /AwsSolutions-IAM5 names no finding: that would hide every other finding/,
    ],
    [{ rule: 'AwsSolutions-IAM4', reason: REASON }, /AwsSolutions-IAM4 names no finding/],
    [
      { rule: 'AwsSolutions-IAM5', resource: '*', action: 's3:*', reason: REASON },
      /give one finding .*got Resource::\* and Action::s3:\*/,
    ],
    [{ rule: 'AwsSolutions-IAM5', resource: '*', reason: '' }, /reason "" is too short/],
    [{ rule: 'AwsSolutions-IAM5', resource: '*', reason: '   needed    ' }, /reason "needed" is too short/],
  ])('refuses %j and records nothing', (ack, message) => {
    const role = roleIn();
    expect(() => acknowledge(role, ack)).toThrow(message);
    expect(acknowledgedOn(role)).toEqual([]);
  });

  it('acknowledgeWildcard refuses a wildcard without a reason too', () => {
    expect(() => acknowledgeWildcard(roleIn(), { resource: '*' }, '')).toThrow(/too short/);
  });
});
