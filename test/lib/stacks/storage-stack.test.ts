import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LOG_GROUP_NAMES, StorageStack } from '../../../lib/stacks/storage-stack';
import { buildTestApp } from '../../../harness/app';

describe('StorageStack', () => {
  // Prepare (once per file): the real app with a non-default retention. The storage stack has no
  // functions, so esbuild bundling (test/lib/app.test.ts bundles every function) is skipped.
  const { storage } = buildTestApp({ 'kb:backupRetentionDays': 45, 'aws:cdk:bundling-stacks': [] });
  const template = Template.fromStack(storage);
  const bucketLogicalId = 'BackupBucket';
  const keyLogicalId = 'BackupKey';

  it('has termination protection', () => {
    expect(storage.terminationProtection).toBe(true);
  });

  it('creates a customer-managed backup key with rotation and an alias, retained on delete', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({
        EnableKeyRotation: true,
        Description: Match.stringLikeRegexp('backups'),
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/kb-dr/backup',
      TargetKeyId: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] },
    });
  });

  it('encrypts the backup bucket with the key (SSE-KMS, bucket key) and blocks all public access', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] },
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: 'AccessLogBucket' },
        LogFilePrefix: 'backup-bucket/',
      },
    });
  });

  it('expires backups after the configured retention, noncurrent versions after 7 days, and aborts uploads after 1 day', () => {
    const bucket = template.findResources('AWS::S3::Bucket')[bucketLogicalId];
    const rules = (bucket?.Properties as { LifecycleConfiguration: { Rules: Record<string, unknown>[] } })
      .LifecycleConfiguration.Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Id: 'expire-backups', Status: 'Enabled', ExpirationInDays: 45 }),
        expect.objectContaining({
          Id: 'expire-noncurrent-versions',
          NoncurrentVersionExpiration: { NoncurrentDays: 7 },
        }),
        expect.objectContaining({
          Id: 'abort-incomplete-uploads',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }),
      ]),
    );
  });

  it('denies every non-TLS request to both buckets', () => {
    for (const bucket of ['BackupBucket', 'AccessLogBucket']) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucket },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('keeps server access logs in their own bucket with their own retention', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-access-logs', ExpirationInDays: 90 })]),
      },
    });
  });

  it('retains both buckets and pins their logical ids', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets).sort()).toEqual(['AccessLogBucket', 'BackupBucket']);
    for (const b of Object.values(buckets)) {
      expect(b.DeletionPolicy).toBe('Retain');
      expect(b.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('lets only RDS export in this account assume the export role', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'export.rds.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ],
      },
    });
  });

  it('limits the export role to the exports/ prefix of the backup bucket and the backup key', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }).PolicyDocument
          .Statement,
    );
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'WriteExports',
          Action: ['s3:DeleteObject*', 's3:GetObject*', 's3:PutObject*'],
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketLogicalId, 'Arn'] }, '/exports/*']] },
        }),
        expect.objectContaining({
          Sid: 'ListBackupBucket',
          Action: ['s3:GetBucketLocation', 's3:ListBucket'],
          Resource: { 'Fn::GetAtt': [bucketLogicalId, 'Arn'] },
        }),
        expect.objectContaining({ Sid: 'EncryptExports', Resource: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] } }),
      ]),
    );
    // Nothing in this stack may act on every resource.
    for (const s of statements) expect(s.Resource).not.toBe('*');
  });

  it('creates the function log groups with retention, retained on delete', () => {
    for (const name of Object.values(LOG_GROUP_NAMES)) {
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: name, RetentionInDays: 365 },
        DeletionPolicy: 'Retain',
      });
    }
  });

  it('lets CloudWatch alarms use the notification key (AWS documents no condition for this statement)', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('SNS'),
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: Match.absent(),
          }),
        ]),
      },
    });
  });

  it('refuses a retention outside 1-3650 days', () => {
    expect(() => new StorageStack(new App(), 'S', { retentionDays: 0 })).toThrow(
      /retentionDays must be a whole number of days from 1 to 3650/,
    );
  });
});
