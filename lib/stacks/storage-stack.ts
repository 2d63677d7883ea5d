import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { isValidRetentionDays, RETENTION_DAYS_RULE } from '../../core/limits';
import { EXPORTS_S3_PREFIX } from '../../core/naming';

export interface StorageStackProps extends StackProps {
  /** Days current backup objects (exports, manifests) are kept before they expire. */
  readonly retentionDays: number;
  /** Days noncurrent (overwritten or deleted) object versions are kept. @default 7 */
  readonly noncurrentVersionRetentionDays?: number;
  /** Days server access logs are kept. @default 90 */
  readonly accessLogRetentionDays?: number;
  /** Retention of the backup and restore function log groups. @default logs.RetentionDays.ONE_YEAR */
  readonly functionLogRetention?: logs.RetentionDays;
}

/** Log group names; on-call and the runbook look for exactly these. */
export const LOG_GROUP_NAMES = {
  backup: '/aws/knowledgebase/backup',
  restore: '/aws/knowledgebase/restore',
} as const;

/**
 * Stateful resources: everything whose loss loses data or audit trail. Each one has a pinned
 * logical id (a refactor never replaces it) and is RETAINed when the stack is deleted; the stack
 * has termination protection.
 */
export class StorageStack extends Stack {
  /** Customer-managed key encrypting backups and manifests. */
  readonly backupKey: kms.Key;
  /** Key for the on-call SNS topic (CloudWatch alarms must be allowed to use it). */
  readonly notificationKey: kms.Key;
  readonly backupBucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  /** Role RDS assumes to write snapshot exports into the backup bucket. */
  readonly exportRole: iam.Role;
  readonly backupLogGroup: logs.LogGroup;
  readonly restoreLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    const { retentionDays } = props;
    if (!isValidRetentionDays(retentionDays)) {
      throw new Error(`StorageStack: retentionDays must be ${RETENTION_DAYS_RULE}, got ${retentionDays}`);
    }
    const noncurrentDays = props.noncurrentVersionRetentionDays ?? 7;
    const accessLogDays = props.accessLogRetentionDays ?? 90;

    this.backupKey = new kms.Key(this, 'BackupKey', {
      alias: 'alias/kb-dr/backup',
      description: 'kb-dr: encrypts Knowledge Base backups, exports and manifests',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    pin(this.backupKey, 'BackupKey');

    this.notificationKey = new kms.Key(this, 'NotificationKey', {
      alias: 'alias/kb-dr/notifications',
      description: 'kb-dr: encrypts the on-call SNS topic',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    pin(this.notificationKey, 'NotificationKey');
    // CloudWatch alarms publish to an encrypted topic only if the key lets them (AWS managed
    // aws/sns cannot be used by alarms).
    this.notificationKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        // No aws:SourceAccount condition: AWS's documented policy for alarms publishing to an
        // encrypted topic has none, and a key the request lacks would silently drop every alarm.
        // The key encrypts only the on-call topic; the topic policy limits publishers to this account.
      }),
    );

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      // Server access log delivery supports only SSE-S3 on the target bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [
        { id: 'expire-access-logs', enabled: true, expiration: Duration.days(accessLogDays) },
        {
          id: 'abort-incomplete-uploads',
          enabled: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    pin(this.accessLogBucket, 'AccessLogBucket');
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the server access log target of the backup bucket; logging it to itself would loop and another log bucket would only move the finding',
    });

    this.backupBucket = new s3.Bucket(this, 'BackupBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.backupKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'backup-bucket/',
      lifecycleRules: [
        { id: 'expire-backups', enabled: true, expiration: Duration.days(retentionDays) },
        {
          id: 'expire-noncurrent-versions',
          enabled: true,
          noncurrentVersionExpiration: Duration.days(noncurrentDays),
          expiredObjectDeleteMarker: true,
        },
        {
          id: 'abort-incomplete-uploads',
          enabled: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    pin(this.backupBucket, 'BackupBucket');

    this.exportRole = new iam.Role(this, 'SnapshotExportRole', {
      description: 'Assumed by RDS to export kb-dr snapshots into the backup bucket',
      assumedBy: new iam.ServicePrincipal('export.rds.amazonaws.com', {
        // Confused-deputy protection: only exports started in this account may use the role.
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    });
    pin(this.exportRole, 'SnapshotExportRole');
    const exportObjects = this.backupBucket.arnForObjects(`${EXPORTS_S3_PREFIX}/*`);
    this.exportRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListBackupBucket',
        actions: ['s3:ListBucket', 's3:GetBucketLocation'],
        resources: [this.backupBucket.bucketArn],
      }),
    );
    this.exportRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteExports',
        actions: ['s3:PutObject*', 's3:GetObject*', 's3:DeleteObject*'],
        resources: [exportObjects],
      }),
    );
    this.exportRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptExports',
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: [this.backupKey.keyArn],
      }),
    );
    Validations.of(this.exportRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::s3:PutObject*]',
      reason:
        'The RDS export service documents s3:PutObject* as the permission it needs; scoped to the exports/ prefix of the backup bucket',
    });
    Validations.of(this.exportRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::s3:GetObject*]',
      reason:
        'The RDS export service documents s3:GetObject* as the permission it needs; scoped to the exports/ prefix of the backup bucket',
    });
    Validations.of(this.exportRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
      reason:
        'The RDS export service documents s3:DeleteObject* (it cleans up partial output); scoped to the exports/ prefix of the backup bucket',
    });
    Validations.of(this.exportRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::<BackupBucket.Arn>/exports/*]',
      reason:
        'Export task output keys are chosen by RDS under the export prefix; the wildcard covers only exports/',
    });
    Validations.of(this.exportRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      reason: 'Encrypting export objects with the backup key; limited to that one key',
    });
    Validations.of(this.exportRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Encrypting export objects with the backup key; limited to that one key',
    });

    this.backupLogGroup = new logs.LogGroup(this, 'BackupLogGroup', {
      logGroupName: LOG_GROUP_NAMES.backup,
      retention: props.functionLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    pin(this.backupLogGroup, 'BackupLogGroup');
    this.restoreLogGroup = new logs.LogGroup(this, 'RestoreLogGroup', {
      logGroupName: LOG_GROUP_NAMES.restore,
      retention: props.functionLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    pin(this.restoreLogGroup, 'RestoreLogGroup');

    new CfnOutput(this, 'BackupBucketName', { value: this.backupBucket.bucketName });
    new CfnOutput(this, 'BackupKeyArn', { value: this.backupKey.keyArn });
    new CfnOutput(this, 'SnapshotExportRoleArn', { value: this.exportRole.roleArn });
  }
}

/** Pin a data resource's logical id so refactoring the construct tree never replaces it. */
function pin(construct: Construct, logicalId: string): void {
  const child = construct.node.defaultChild;
  if (!child || !('overrideLogicalId' in child))
    throw new Error(`cannot pin logical id of ${construct.node.path}`);
  (child as { overrideLogicalId(id: string): void }).overrideLogicalId(logicalId);
}
