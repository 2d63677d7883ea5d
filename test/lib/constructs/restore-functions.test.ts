/** RestoreFunctions in a bare stack with fake storage: the five functions and their IAM tables. */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RESTORE_FUNCTION_DIRS, RestoreFunctions } from '../../../lib/constructs/restore-functions';
import {
  actionsOf,
  bareStack,
  resourcesOf,
  statementsOfRole,
  testConfig,
  type Statement,
} from './bare-stack';

function build(context: Record<string, string> = {}) {
  const { app, stack, storage } = bareStack();
  const restore = new RestoreFunctions(stack, 'RestoreFunctions', { config: testConfig(context), storage });
  const template = Template.fromStack(stack);
  const roleId = (dir: (typeof RESTORE_FUNCTION_DIRS)[number]) =>
    stack.getLogicalId(restore.functions[dir].role.node.defaultChild as never);
  const statementsOf = (dir: (typeof RESTORE_FUNCTION_DIRS)[number]) =>
    statementsOfRole(template, roleId(dir));
  return { app, stack, storage, restore, template, statementsOf };
}

const built = build({ 'kb:productionInstanceIds': 'kb-prod,kb-prod-replica' });
const { template, statementsOf } = built;
const all: Statement[] = RESTORE_FUNCTION_DIRS.flatMap((dir) => statementsOf(dir));
const bySid = (dir: (typeof RESTORE_FUNCTION_DIRS)[number], sid: string): Statement => {
  const found = statementsOf(dir).filter((s) => s.Sid === sid);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const dbsOf = (s: Statement) =>
  resourcesOf(s)
    .map((r) => /:db:(.+)$/.exec(r)?.[1])
    .filter(Boolean);

describe('RestoreFunctions', () => {
  it('synthesizes in a bare stack with every cdk-nag finding acknowledged on its role', () => {
    expect(() => built.app.synth()).not.toThrow();
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
    for (const s of restores) expect(resourcesOf(s)).not.toContain('*');
    const target = bySid('restore-snapshot', 'RestoreSnapshotToPrefixedTarget');
    expect(dbsOf(target)).toEqual(['kb-restore-*']);
    expect(target.Condition).toEqual({ StringEquals: { 'aws:RequestTag/kb-dr:managed-by': 'kb-dr' } });
    const source = bySid('restore-snapshot', 'RestoreFromKbDrSnapshotOnly');
    expect(resourcesOf(source)).toEqual(['arn:aws:rds:eu-west-1:123456789012:snapshot:kb-snapshot-*']);
    expect(source.Condition).toEqual({ StringEquals: { 'rds:snapshot-tag/kb-dr:managed-by': 'kb-dr' } });
  });

  it('fences PITR in IAM: production only as a tagged source, kb-restore-* as the target', () => {
    const pitr = all.filter((s) => actionsOf(s).includes('rds:RestoreDBInstanceToPointInTime'));
    expect(pitr.map((s) => s.Sid).sort()).toEqual([
      'PointInTimeFromTaggedProduction',
      'PointInTimeToPrefixedTarget',
    ]);
    expect(dbsOf(bySid('restore-pitr', 'PointInTimeToPrefixedTarget'))).toEqual(['kb-restore-*']);
    const source = bySid('restore-pitr', 'PointInTimeFromTaggedProduction');
    expect(dbsOf(source).sort()).toEqual(
      ['kb-prod', 'kb-prod-replica', 'kb-prod-pre-promote-*', 'kb-prod-replica-pre-promote-*'].sort(),
    );
    expect(source.Condition).toEqual({
      StringEquals: { 'rds:db-tag/kb-dr:protected-instance': ['kb-prod', 'kb-prod-replica'] },
    });
  });

  it('tags each protected instance with kb-dr:protected-instance at deploy, tolerating one that is missing', () => {
    const calls = Object.values(template.findResources('Custom::AWS'));
    expect(calls).toHaveLength(2);
    for (const resource of calls) {
      const props = resource.Properties as { Create: string; Update: string; Delete?: unknown };
      expect(JSON.parse(props.Create)).toEqual(JSON.parse(props.Update));
      expect(props.Delete).toBeUndefined();
      expect(JSON.parse(props.Create)).toMatchObject({
        service: 'RDS',
        action: 'AddTagsToResource',
        ignoreErrorCodesMatching: 'DBInstanceNotFound.*',
      });
    }
    for (const id of ['kb-prod', 'kb-prod-replica'])
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            {
              Action: 'rds:AddTagsToResource',
              Effect: 'Allow',
              Resource: `arn:aws:rds:eu-west-1:123456789012:db:${id}`,
              Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['kb-dr:protected-instance'] } },
            },
          ],
        },
      });
  });

  it('lets promote-restore rename only production, its aside copies and restored instances', () => {
    const modify = all.filter((s) => actionsOf(s).includes('rds:ModifyDBInstance'));
    expect(modify.map((s) => s.Sid)).toEqual(['RenameProductionAndRestores']);
    expect(dbsOf(modify[0]!).sort()).toEqual(
      [
        'kb-prod',
        'kb-prod-replica',
        'kb-restore-*',
        'kb-prod-pre-promote-*',
        'kb-prod-replica-pre-promote-*',
      ].sort(),
    );
  });

  it('grants no delete and tags only restored instances (and the protected-instance tag key on production)', () => {
    for (const s of all)
      expect(actionsOf(s).filter((a) => /^rds:Delete|^rds:\*|^s3:Delete|^s3:\*|^s3:Put/.test(a))).toEqual([]);
    expect(bySid('promote-restore', 'TagPromotedAsProtected')).toMatchObject({
      Resource: [
        'arn:aws:rds:eu-west-1:123456789012:db:kb-prod',
        'arn:aws:rds:eu-west-1:123456789012:db:kb-prod-replica',
      ],
      Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['kb-dr:protected-instance'] } },
    });
    const tagging = all.filter(
      (s) => actionsOf(s).includes('rds:AddTagsToResource') && s.Sid !== 'TagPromotedAsProtected',
    );
    expect(tagging.map((s) => s.Sid).sort()).toEqual([
      'TagPrefixedRestore',
      'TagPrefixedTarget',
      'TagPrefixedTarget',
    ]);
    for (const s of tagging) expect(dbsOf(s)).toEqual(['kb-restore-*']);
  });

  it('limits KMS grants on the database key to use through RDS, for the two restore functions only', () => {
    const kms = RESTORE_FUNCTION_DIRS.filter((dir) =>
      statementsOf(dir).some((s) => actionsOf(s).includes('kms:CreateGrant')),
    );
    expect(kms).toEqual(['restore-snapshot', 'restore-pitr']);
    for (const dir of kms)
      expect(bySid(dir, 'UseDbKeyViaRds').Condition).toEqual({
        StringEquals: { 'kms:ViaService': 'rds.eu-west-1.amazonaws.com' },
      });
  });

  it('reads the backup bucket only where needed: manifests for restore-snapshot, manifests and exports for validate-backup', () => {
    const objects = (dir: (typeof RESTORE_FUNCTION_DIRS)[number]) =>
      statementsOf(dir)
        .filter((s) => actionsOf(s).includes('s3:GetObject'))
        .flatMap((s) => resourcesOf(s).map((r) => /"\/([a-z]+\/\*)"/.exec(r)?.[1]));
    expect(objects('restore-snapshot')).toEqual(['manifests/*']);
    expect(objects('validate-backup').sort()).toEqual(['exports/*', 'manifests/*']);
    for (const dir of ['restore-pitr', 'restore-status', 'promote-restore'] as const)
      expect(objects(dir)).toEqual([]);
    // A missing manifest must answer 404, not AccessDenied: ListBucket carries no prefix condition.
    expect(bySid('validate-backup', 'ListBackupBucket').Condition).toBeUndefined();
  });

  it('uses * only for DescribeExportTasks, in validate-backup', () => {
    const unscoped = all.filter((s) => resourcesOf(s).includes('*'));
    expect(unscoped.map((s) => [s.Sid, s.Action])).toEqual([['ReadExportTasks', 'rds:DescribeExportTasks']]);
  });

  it('refuses a restore prefix that cannot start an instance id, at synth, with an example', () => {
    const { stack, storage } = bareStack();
    const config = { ...testConfig(), restoreInstancePrefix: '9-restore-' };
    expect(() => new RestoreFunctions(stack, 'R', { config, storage })).toThrow(
      /restoreInstancePrefix "9-restore-" must be .*e\.g\. "kb-restore-"/,
    );
  });
});
