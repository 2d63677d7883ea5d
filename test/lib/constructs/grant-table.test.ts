/** applyGrants: a role's statements from a table, each cdk-nag acknowledgement on that role only. */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { applyGrants, type GrantRow } from '../../../lib/constructs/grant-table';
import { statementsOfRole } from './bare-stack';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const OBJECTS = 'arn:aws:s3:::kb-bucket/manifests/*';
const READ_MANIFESTS: GrantRow = {
  sid: 'ReadManifests',
  actions: ['s3:GetObject'],
  resources: [OBJECTS],
  conditions: { StringEquals: { 'aws:ResourceAccount': '123456789012' } },
  nag: [{ rule: 'AwsSolutions-IAM5', resource: OBJECTS, reason: 'manifest keys are named per backup' }],
};

function setup() {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'S', { env: ENV });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const other = new iam.Role(stack, 'Other', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { app, stack, role, other };
}

describe('applyGrants', () => {
  it('adds the statements in table order, with their sids and conditions', () => {
    // Prepare
    const { stack, role } = setup();
    // Act
    applyGrants(role, [
      { sid: 'ListBucket', actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::kb-bucket'] },
      READ_MANIFESTS,
    ]);
    // Assess
    const statements = statementsOfRole(
      Template.fromStack(stack),
      stack.getLogicalId(role.node.defaultChild as iam.CfnRole),
    );
    expect(statements).toEqual([
      { Sid: 'ListBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::kb-bucket' },
      {
        Sid: 'ReadManifests',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: OBJECTS,
        Condition: { StringEquals: { 'aws:ResourceAccount': '123456789012' } },
      },
    ]);
  });

  it("acknowledges a statement's finding on its role, so synth passes", () => {
    const { app, role } = setup();
    applyGrants(role, [READ_MANIFESTS]);
    expect(() => app.synth()).not.toThrow();
  });

  it('acknowledges on that role only: the same wildcard on another role still fails synth', () => {
    const { app, role, other } = setup();
    applyGrants(role, [READ_MANIFESTS]);
    applyGrants(other, [{ ...READ_MANIFESTS, nag: [] }]);
    expect(() => app.synth()).toThrow(
      /Other.*AwsSolutions-IAM5\[Resource::arn:aws:s3:::kb-bucket\/manifests\/\*\]/s,
    );
  });

  it('refuses a table that acknowledges the same finding twice, naming both statements', () => {
    const { role } = setup();
    expect(() => applyGrants(role, [READ_MANIFESTS, { ...READ_MANIFESTS, sid: 'AgainManifests' }])).toThrow(
      /AwsSolutions-IAM5\[Resource::arn:aws:s3:::kb-bucket\/manifests\/\*\] is acknowledged by statement ReadManifests and again by AgainManifests/,
    );
  });

  it('refuses a statement without actions or resources', () => {
    const { role } = setup();
    expect(() => applyGrants(role, [{ sid: 'Nothing', actions: [], resources: ['*'] }])).toThrow(
      /statement Nothing needs at least one action and one resource/,
    );
    expect(() => applyGrants(role, [{ sid: 'Nowhere', actions: ['s3:GetObject'], resources: [] }])).toThrow(
      /statement Nowhere needs/,
    );
  });

  it('refuses an acknowledgement without a real reason, and records none', () => {
    const { role } = setup();
    expect(() =>
      applyGrants(role, [
        { ...READ_MANIFESTS, nag: [{ rule: 'AwsSolutions-IAM5', resource: OBJECTS, reason: 'ok' }] },
      ]),
    ).toThrow(/reason "ok" is too short/);
    expect(role.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')).toEqual([]);
  });
});
