import { ArnFormat, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { PIPELINE_EVENT_IDS } from '../../core/rds-event';
import {
  asideInstancePrefix,
  EXPORT_TASK_PREFIX,
  EXPORTS_S3_PREFIX,
  MANAGED_BY_TAG,
  MANIFESTS_S3_PREFIX,
  SNAPSHOT_PREFIX,
} from '../../core/naming';
import type { KbDrConfig } from '../config';
import { acknowledgeWildcard, crossStackArn, nagArnPrefix, nagArnRef } from '../nag';
import { applyGrants, type GrantRow } from './grant-table';
import { KbFunction } from './kb-function';
import { runtimeEnvironment, type StorageResources } from './storage-resources';

export interface BackupPipelineProps {
  readonly config: KbDrConfig;
  readonly storage: StorageResources;
  /**
   * How often the reconcile pass runs. It finishes what a lost RDS event left and emits
   * TimeSinceLastBackup; the KB-BackupFailure-NoRecentSuccess alarm uses 1-hour periods with
   * missing data breaching, so the pass must run several times an hour or one missed firing
   * leaves an empty period. @default Duration.minutes(15)
   */
  readonly reconcileInterval?: Duration;
}

/**
 * RDS actions granted on `*`. DescribeExportTasks lists `snapshot` only as an optional resource
 * type, and a call by ExportTaskIdentifier (or with no filter) names no snapshot: the reference does
 * not say what such a call is authorized on, so the read stays on `*` rather than risk AccessDenied
 * on the first night. StartExportTask always names its snapshot (SourceArn) and is scoped to
 * kb-dr's snapshots.
 */
export const RDS_ACTIONS_WITHOUT_RESOURCE_SCOPE = ['rds:DescribeExportTasks'] as const;

/** Services RDS snapshot export may pass the export role to (iam:PassedToService). */
export const EXPORT_ROLE_PASSED_TO = ['export.rds.amazonaws.com', 'rds.amazonaws.com'] as const;

const IAM5 = 'AwsSolutions-IAM5';

/**
 * The nightly backup pipeline, event driven with a periodic reconcile pass:
 * - the nightly EventBridge Scheduler schedule invokes the backup function, which requests the
 *   snapshot and returns (the scheduled time travels in the event, so a retry names the same snapshot);
 * - EventBridge rules send the RDS events "manual snapshot created" (0042) and "export completed /
 *   failed / canceled" (0161/0159/0160) for kb-dr's snapshots to the reconcile function, which
 *   starts the export or records the outcome;
 * - every 15 minutes the reconcile function also runs a full pass: it finishes whatever an event
 *   missed (RDS sends events best effort), applies retention, and emits TimeSinceLastBackup.
 * No function waits for a snapshot or an export.
 */
export class BackupPipeline extends Construct {
  readonly backupFunction: KbFunction;
  readonly reconcileFunction: KbFunction;
  readonly nightlySchedule: scheduler.Schedule;
  readonly reconcileSchedule: scheduler.Schedule;
  readonly snapshotCreatedRule: events.Rule;
  readonly exportFinishedRule: events.Rule;

  constructor(scope: Construct, id: string, props: BackupPipelineProps) {
    super(scope, id);
    const { config, storage } = props;
    const interval = props.reconcileInterval ?? Duration.minutes(15);
    if (interval.toMinutes() < 1 || interval.toMinutes() > 30) {
      throw new Error(
        `BackupPipeline: reconcileInterval must be from 1 to 30 minutes (the stale-backup alarm has 1-hour periods), got ${interval.toHumanString()}`,
      );
    }
    const stack = Stack.of(this);
    const environment = runtimeEnvironment(config, storage);

    this.backupFunction = new KbFunction(this, 'Backup', {
      functionDir: 'backup',
      functionNamePrefix: config.functionNamePrefix,
      description: 'kb-dr nightly backup: snapshot the Knowledge Base instance and export it to S3',
      logGroup: storage.backupLogGroup,
      environment,
      timeout: Duration.minutes(2),
    });
    this.reconcileFunction = new KbFunction(this, 'Reconcile', {
      functionDir: 'reconcile',
      functionNamePrefix: config.functionNamePrefix,
      description:
        'kb-dr backup reconcile: start exports, record outcomes, prune old snapshots, report backup age',
      logGroup: storage.backupLogGroup,
      environment,
      timeout: Duration.minutes(5),
    });

    // ARNs of what the functions may touch.
    const instanceArn = stack.formatArn({
      service: 'rds',
      resource: 'db',
      resourceName: config.dbInstanceId,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const kbSnapshotsArn = stack.formatArn({
      service: 'rds',
      resource: 'snapshot',
      resourceName: `${SNAPSHOT_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // After a promotion the old production is <prod>-pre-promote-<time>: its kb-dr snapshots must
    // still be found (DescribeDBSnapshots by that instance) and pruned.
    const asideArn = stack.formatArn({
      service: 'rds',
      resource: 'db',
      resourceName: `${asideInstancePrefix(config.dbInstanceId)}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const anySnapshotArn = stack.formatArn({
      service: 'rds',
      resource: 'snapshot',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const bucketArn = crossStackArn(this, storage.backupBucket, storage.backupBucket.bucketArn);
    const manifestObjects = `${bucketArn.value}/${MANIFESTS_S3_PREFIX}/*`;
    const s3ViaService = { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } };
    const nagRds = (resource: string) => `${nagArnPrefix(this, 'rds')}${resource}`;

    /** Both functions: read the instance and snapshots, read/write manifests, list the bucket. */
    const common = (kbSnapshotsReason: string): GrantRow[] => [
      { sid: 'DescribeProtectedInstance', actions: ['rds:DescribeDBInstances'], resources: [instanceArn] },
      {
        sid: 'DescribeSnapshots',
        actions: ['rds:DescribeDBSnapshots'],
        resources: [instanceArn, asideArn, anySnapshotArn],
        nag: [
          {
            rule: IAM5,
            resource: nagRds(`db:${asideInstancePrefix(config.dbInstanceId)}*`),
            reason:
              "read-only: after a promotion, production's aside copy <prod>-pre-promote-<UTC time> (generated suffix) still owns kb-dr snapshots taken before the rename; they must be found and pruned",
          },
          {
            rule: IAM5,
            resource: nagRds('snapshot:*'),
            reason:
              'rds:DescribeDBSnapshots is read-only; listing the protected instance snapshots is authorized against every snapshot it returns, including ones kb-dr did not make (which retention then refuses to touch)',
          },
        ],
      },
      {
        sid: 'ReadKbSnapshotTags',
        actions: ['rds:ListTagsForResource'],
        resources: [kbSnapshotsArn],
        nag: [{ rule: IAM5, resource: nagRds(`snapshot:${SNAPSHOT_PREFIX}*`), reason: kbSnapshotsReason }],
      },
      {
        sid: 'ReadWriteManifests',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [manifestObjects],
        nag: [
          {
            rule: IAM5,
            resource: `${bucketArn.nag}/${MANIFESTS_S3_PREFIX}/*`,
            reason:
              'Manifest keys are named after each backup (manifests/<snapshot-id>.json); the wildcard covers only the manifests/ prefix',
          },
        ],
      },
      // Unconditioned: GetObject of a missing key answers 404 only to a caller with s3:ListBucket,
      // and the check GetObject makes carries no s3:prefix, so a prefix condition would turn
      // "tonight's manifest does not exist yet" into AccessDenied and fail every night.
      { sid: 'ListBackupBucket', actions: ['s3:ListBucket'], resources: [bucketArn.value] },
      {
        sid: 'ManifestEncryption',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [storage.backupKey.keyArn],
        conditions: s3ViaService,
      },
    ];

    // Backup: create tonight's snapshot of the protected instance, tagged on creation.
    applyGrants(this.backupFunction.role, [
      ...common(
        `kb-dr snapshot ids carry the backup time (${SNAPSHOT_PREFIX}YYYYMMDD-HHMMSS), so the name is known only at run time`,
      ),
      {
        sid: 'CreateKbSnapshot',
        actions: ['rds:CreateDBSnapshot'],
        resources: [instanceArn, kbSnapshotsArn],
      },
      { sid: 'TagKbSnapshotOnCreate', actions: ['rds:AddTagsToResource'], resources: [kbSnapshotsArn] },
    ]);

    // Reconcile: export, tag timings, prune kb-dr's own snapshots only.
    applyGrants(this.reconcileFunction.role, [
      ...common(
        `kb-dr snapshot ids carry the backup time (${SNAPSHOT_PREFIX}YYYYMMDD-HHMMSS); exports are started only from them, and deletion additionally requires the ${MANAGED_BY_TAG.key} tag`,
      ),
      { sid: 'ExportKbSnapshots', actions: ['rds:StartExportTask'], resources: [kbSnapshotsArn] },
      {
        sid: 'ReadExportTasks',
        actions: RDS_ACTIONS_WITHOUT_RESOURCE_SCOPE,
        resources: ['*'],
        nag: [
          {
            rule: IAM5,
            resource: '*',
            reason: `Only ${RDS_ACTIONS_WITHOUT_RESOURCE_SCOPE.join(' and ')} (read-only): a call by ExportTaskIdentifier names no snapshot, and the Service Authorization Reference lists snapshot only as an optional resource type without saying what such a call is authorized on`,
          },
        ],
      },
      // The reference names export.rds.amazonaws.com as the service the role is passed to; RDS
      // itself (rds.amazonaws.com) is accepted too, since a wrong value would fail every export.
      {
        sid: 'PassExportRole',
        actions: ['iam:PassRole'],
        resources: [storage.exportRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': [...EXPORT_ROLE_PASSED_TO] } },
      },
      {
        sid: 'ExportKeyGrant',
        actions: ['kms:CreateGrant', 'kms:DescribeKey'],
        resources: [storage.backupKey.keyArn],
      },
      { sid: 'TagKbSnapshotTimings', actions: ['rds:AddTagsToResource'], resources: [kbSnapshotsArn] },
      // Count the Knowledge Base rows of a completed export: its export_tables_info JSON and ranged
      // GETs of its Parquet footers. Read-only; kms:Decrypt (via S3) is the ManifestEncryption grant.
      {
        sid: 'ReadExportFooters',
        actions: ['s3:GetObject'],
        resources: [`${bucketArn.value}/${EXPORTS_S3_PREFIX}/*`],
        nag: [
          {
            rule: IAM5,
            resource: `${bucketArn.nag}/${EXPORTS_S3_PREFIX}/*`,
            reason:
              'read-only: export objects are named by RDS per export task (exports/<task>/<database>/<schema.table>/...); the reconcile pass reads their Parquet footers to record row counts',
          },
        ],
      },
      {
        sid: 'DeleteExpiredKbSnapshots',
        actions: ['rds:DeleteDBSnapshot'],
        resources: [kbSnapshotsArn],
        // RDS's own documented condition key for snapshot tags (RDS User Guide, "snapshot-tag").
        conditions: { StringEquals: { [`rds:snapshot-tag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
      },
    ]);

    // Schedules: nightly backup, and the reconcile pass.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the kb-dr backup and reconcile functions',
    });
    for (const fn of [this.backupFunction, this.reconcileFunction]) {
      acknowledgeWildcard(
        schedulerRole,
        { resource: `${nagArnRef(fn.function)}:*` },
        'lambda:InvokeFunction granted on this function and its versions/aliases only (CDK grantInvoke adds the qualifier wildcard)',
      );
    }

    this.nightlySchedule = new scheduler.Schedule(this, 'NightlySchedule', {
      description: `kb-dr nightly backup of ${config.dbInstanceId} (${config.backupSchedule} ${config.backupTimezone})`,
      schedule: scheduler.ScheduleExpression.expression(
        config.scheduleExpression,
        TimeZone.of(config.backupTimezone),
      ),
      target: new targets.LambdaInvoke(this.backupFunction.function, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({
          source: 'kb-dr.schedule',
          time: scheduler.ContextAttribute.scheduledTime,
        }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
      }),
    });

    this.reconcileSchedule = new scheduler.Schedule(this, 'ReconcileSchedule', {
      description: `kb-dr backup reconcile pass for ${config.dbInstanceId}: finish what events missed, prune, report backup age`,
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new targets.LambdaInvoke(this.reconcileFunction.function, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({
          source: 'kb-dr.reconcile',
          time: scheduler.ContextAttribute.scheduledTime,
        }),
        // A late pass is worthless: the next one is at most one interval away.
        retryAttempts: 1,
        maxEventAge: Duration.minutes(Math.max(1, interval.toMinutes())),
      }),
    });

    // RDS events. Snapshot-created events name the snapshot, so the rule keeps only kb-dr's.
    // Export events are filtered to kb-dr's snapshot and export-task ids; should RDS name them
    // otherwise, the reconcile pass still records the outcome within one interval.
    const eventTarget = new eventTargets.LambdaFunction(this.reconcileFunction.function, {
      retryAttempts: 4,
      maxEventAge: Duration.hours(1),
    });
    this.snapshotCreatedRule = new events.Rule(this, 'SnapshotCreatedRule', {
      description: 'kb-dr: a kb-dr manual snapshot is available; start its export',
      eventPattern: {
        source: ['aws.rds'],
        detailType: ['RDS DB Snapshot Event'],
        detail: {
          EventID: [PIPELINE_EVENT_IDS.snapshotCreated],
          SourceIdentifier: [{ prefix: SNAPSHOT_PREFIX }],
        },
      },
      targets: [eventTarget],
    });
    this.exportFinishedRule = new events.Rule(this, 'ExportFinishedRule', {
      description: 'kb-dr: a snapshot export ended (completed, failed or canceled); record the outcome',
      eventPattern: {
        source: ['aws.rds'],
        detailType: ['RDS DB Snapshot Event'],
        detail: {
          EventID: [
            PIPELINE_EVENT_IDS.exportCompleted,
            PIPELINE_EVENT_IDS.exportFailed,
            PIPELINE_EVENT_IDS.exportCanceled,
          ],
          SourceIdentifier: [{ prefix: SNAPSHOT_PREFIX }, { prefix: EXPORT_TASK_PREFIX }],
        },
      },
      targets: [eventTarget],
    });
  }
}
