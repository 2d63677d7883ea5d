import { Match, Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { RESTORE_FUNCTION_DIRS } from '../../../lib/constructs/restore-functions';
import { TEST_EVENT_REGISTRY, testEventSchemaName } from '../../../lib/constructs/console-test-events';
import { buildTestApp } from '../../../harness/app';

// Asset bundling is irrelevant to these assertions and costs ~5 s per function.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/**
 * Statements of this construct's policies only (the backup pipeline shares the stack), without the
 * deploy-time tagging calls (asserted on their own).
 */
function statements(template: Template): Statement[] {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([logicalId]) => logicalId.startsWith('RestoreFunctions'))
    .filter(([logicalId]) => !logicalId.includes('ProtectedInstanceTags'))
    .map(([, p]) => p)
    .flatMap(
      (p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
    );
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) =>
  (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r) => JSON.stringify(r));

describe('RestoreFunctions', () => {
  const { operations } = buildTestApp({
    ...NO_BUNDLING,
    'kb:productionInstanceIds': 'kb-prod,kb-prod-replica',
  });
  const template = Template.fromStack(operations);
  const all = statements(template);

  it('finds the policies of the five function roles, the scheduler role, the registry call and the tag calls', () => {
    const ids = Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) =>
      id.startsWith('RestoreFunctions'),
    );
    expect(ids).toHaveLength(RESTORE_FUNCTION_DIRS.length + 2 + 2);
    expect(ids.filter((id) => id.includes('EnsureTestEventRegistry'))).toHaveLength(1);
    expect(ids.filter((id) => id.includes('ProtectedInstanceTags'))).toHaveLength(2);
  });

  it('deploys the five functions under stable names, logging to /aws/knowledgebase/restore', () => {
    for (const dir of RESTORE_FUNCTION_DIRS) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `kb-dr-${dir}`,
        LoggingConfig: { LogGroup: '/aws/knowledgebase/restore', LogFormat: 'JSON' },
        Environment: { Variables: Match.objectLike({ KB_RESTORE_INSTANCE_PREFIX: 'kb-restore-' }) },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'kb-dr-promote-restore',
      Timeout: 900,
    });
  });

  it('allows restores only to kb-restore-* instances and from kb-snapshot-* snapshots kb-dr tagged', () => {
    const restores = all.filter((s) => actionsOf(s).some((a) => a.startsWith('rds:RestoreDBInstance')));
    expect(restores).toHaveLength(4);
    for (const s of restores) expect(resourcesOf(s).some((r) => r === '"*"')).toBe(false);
    const fromSnapshot = restores.filter((s) => actionsOf(s).includes('rds:RestoreDBInstanceFromDBSnapshot'));
    const snapshotDbs = fromSnapshot.flatMap((s) => resourcesOf(s)).filter((r) => r.includes(':db:'));
    expect(snapshotDbs).toEqual([expect.stringContaining(':db:kb-restore-*')]);
    const source = fromSnapshot.find((s) => s.Sid === 'RestoreFromKbDrSnapshotOnly');
    expect(resourcesOf(source as Statement)).toEqual([expect.stringContaining(':snapshot:kb-snapshot-*')]);
    expect(source?.Condition).toEqual({ StringEquals: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } });
  });

  it('fences PITR in IAM: production only as a tagged source, kb-restore-* as the target', () => {
    const pitr = all.filter((s) => actionsOf(s).includes('rds:RestoreDBInstanceToPointInTime'));
    expect(pitr).toHaveLength(2);
    const target = pitr.find((s) => s.Sid === 'PointInTimeToPrefixedTarget') as Statement;
    expect(resourcesOf(target).filter((r) => r.includes(':db:'))).toEqual([
      expect.stringContaining(':db:kb-restore-*'),
    ]);
    const source = pitr.find((s) => s.Sid === 'PointInTimeFromTaggedProduction') as Statement;
    const dbs = resourcesOf(source).map((r) => /:db:([^"]+)"/.exec(r)?.[1]);
    expect(dbs.sort()).toEqual(
      ['kb-prod', 'kb-prod-replica', 'kb-prod-pre-promote-*', 'kb-prod-replica-pre-promote-*'].sort(),
    );
    expect(source.Condition).toEqual({
      StringEquals: { 'rds:db-tag/kb-dr:protected-instance': ['kb-prod', 'kb-prod-replica'] },
    });
  });

  it('tags each protected instance with kb-dr:protected-instance at deploy, tolerating one that is missing', () => {
    const calls = Object.entries(template.findResources('Custom::AWS')).filter(([id]) =>
      id.startsWith('RestoreFunctionsProtectedInstanceTags'),
    );
    expect(calls).toHaveLength(2);
    for (const [, resource] of calls) {
      const props = resource.Properties as { Create: string; Update: string; Delete?: unknown };
      expect(JSON.parse(props.Create)).toEqual(JSON.parse(props.Update));
      expect(props.Delete).toBeUndefined();
      expect(JSON.parse(props.Create)).toMatchObject({
        service: 'RDS',
        action: 'AddTagsToResource',
        ignoreErrorCodesMatching: 'DBInstanceNotFound.*',
      });
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'rds:AddTagsToResource',
            Effect: 'Allow',
            Resource: 'arn:aws:rds:eu-west-1:123456789012:db:kb-prod',
            Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['kb-dr:protected-instance'] } },
          },
        ],
      },
    });
  });

  it('lets promote-restore rename only production, its aside copies and restored instances', () => {
    const modify = all.filter((s) => actionsOf(s).includes('rds:ModifyDBInstance'));
    expect(modify).toHaveLength(1);
    const dbs = resourcesOf(modify[0] as Statement).map((r) => /:db:([^"]+)"/.exec(r)?.[1]);
    expect(dbs.sort()).toEqual(
      [
        'kb-prod',
        'kb-prod-replica',
        'kb-restore-*',
        'kb-prod-pre-promote-*',
        'kb-prod-replica-pre-promote-*',
      ].sort(),
    );
  });

  it('grants no delete and tags only restored instances (and the protected-instance tag on production)', () => {
    for (const s of all)
      expect(actionsOf(s).filter((a) => /^rds:Delete|^rds:\*|^s3:Delete|^s3:\*/.test(a))).toEqual([]);
    const promoteTag = all.filter((s) => s.Sid === 'TagPromotedAsProtected');
    expect(promoteTag).toHaveLength(1);
    expect(promoteTag[0]?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['kb-dr:protected-instance'] },
    });
    const tagging = all.filter(
      (s) => actionsOf(s).includes('rds:AddTagsToResource') && s.Sid !== 'TagPromotedAsProtected',
    );
    expect(tagging.length).toBeGreaterThan(0);
    for (const s of tagging) {
      const tagActions = actionsOf(s).filter((a) => a === 'rds:AddTagsToResource');
      expect(tagActions).toHaveLength(1);
      expect(resourcesOf(s)).toEqual([expect.stringContaining(':db:kb-restore-*')]);
    }
  });

  it('limits KMS grants on the database key to use through RDS', () => {
    const kms = all.filter((s) => actionsOf(s).includes('kms:CreateGrant'));
    expect(kms).toHaveLength(2);
    for (const s of kms)
      expect(s.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'rds.eu-west-1.amazonaws.com' } });
  });

  it('validates the latest backup weekly, Mondays 06:00 (cron "0 6 * * 1") by default', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 ? * 2 *)',
      ScheduleExpressionTimezone: 'UTC',
      Target: Match.objectLike({ Input: JSON.stringify({ snapshotId: 'latest' }) }),
    });
  });

  it('provisions docs/events as shareable console test events', () => {
    template.resourceCountIs('AWS::EventSchemas::Registry', 0);
    // One per restore function, plus verify-restore's (RestoreVerification, same registry).
    template.resourceCountIs('AWS::EventSchemas::Schema', RESTORE_FUNCTION_DIRS.length + 1);
    const schema = Object.values(template.findResources('AWS::EventSchemas::Schema')).find(
      (r) =>
        (r.Properties as { SchemaName: string }).SchemaName === testEventSchemaName('kb-dr-restore-snapshot'),
    );
    const props = schema?.Properties as { RegistryName: string; Type: string; Content: string };
    expect(props).toMatchObject({ RegistryName: TEST_EVENT_REGISTRY, Type: 'OpenApi3' });
    const content = JSON.parse(props.Content) as {
      components: { examples: Record<string, { value: unknown }> };
    };
    const latest = JSON.parse(
      readFileSync(path.join(__dirname, '../../../docs/events/restore-snapshot.latest.json'), 'utf8'),
    ) as unknown;
    expect(content.components.examples.latest?.value).toEqual(latest);
  });

  it('creates the registry if the account lacks it, tolerates one that exists, and never deletes it', () => {
    // Prepare
    const ensure = Object.entries(template.findResources('Custom::AWS')).find(([id]) =>
      id.startsWith('RestoreFunctionsEnsureTestEventRegistry'),
    );
    expect(ensure).toBeDefined();
    const [ensureId, resource] = ensure!;
    const create = JSON.parse(String((resource.Properties as { Create: unknown }).Create)) as Record<
      string,
      unknown
    >;
    // Assess
    expect(create).toMatchObject({
      service: 'Schemas',
      action: 'CreateRegistry',
      parameters: { RegistryName: TEST_EVENT_REGISTRY },
      ignoreErrorCodesMatching: 'ConflictException',
    });
    expect((resource.Properties as { Delete?: unknown }).Delete).toBeUndefined();
    for (const s of Object.values(template.findResources('AWS::EventSchemas::Schema'))) {
      expect(s.DependsOn).toEqual(expect.arrayContaining([ensureId]));
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'schemas:CreateRegistry',
            Effect: 'Allow',
            Resource: `arn:aws:schemas:eu-west-1:123456789012:registry/${TEST_EVENT_REGISTRY}`,
          },
        ],
      },
    });
  });

  it('provisions no test events and no registry call when shareable test events are off', () => {
    const off = Template.fromStack(
      buildTestApp({ ...NO_BUNDLING, 'kb:shareableTestEvents': 'false' }).operations,
    );
    off.resourceCountIs('AWS::EventSchemas::Schema', 0);
    // Only the protected-instance tag calls remain.
    expect(
      Object.keys(off.findResources('Custom::AWS')).every((id) => id.includes('ProtectedInstanceTags')),
    ).toBe(true);
  });

  it('refuses a test-events flag that is not a boolean, at synth', () => {
    expect(() => buildTestApp({ ...NO_BUNDLING, 'kb:shareableTestEvents': 'yes' })).toThrow(
      /KB_SHAREABLE_TEST_EVENTS \(context kb:shareableTestEvents\) = "yes" must be true or false/,
    );
  });
});
