/**
 * The vocabulary of each function's `aws-requests.ts`: every AWS request the function's code sends,
 * with what AWS authorizes it on. test/lib/iam-simulation.test.ts simulates each one against the
 * function's synthesized role (and the resource policies involved), and fails when the code sends
 * an SDK command its list does not name. Nothing here runs in Lambda.
 *
 * ARNs and context values are patterns with `{placeholders}` the test fills with its concrete
 * world (account 123456789012, us-east-1, protected instance `kb-prod`, ...): see `ARN`.
 */

/** Condition keys and their values, as the request context carries them. */
export type ContextKeys = Readonly<Record<string, string | readonly string[]>>;

/** One resource a request is authorized on. */
export interface AwsRequestResource {
  /** ARN pattern (an `ARN` entry, or `*` for a request that names no resource). */
  readonly arn: string;
  /** Condition keys of this resource (tags of an existing instance or snapshot). */
  readonly context?: ContextKeys;
}

/** One authorization check AWS makes for a request the function sends. */
export interface AwsRequest {
  /** The SDK command sent, e.g. `CreateDBSnapshotCommand` (a paginator sends its command). */
  readonly command: string;
  /** The IAM action AWS evaluates. */
  readonly action: string;
  /** Why the function sends it, or what AWS checks (shown when the simulation fails). */
  readonly purpose: string;
  /**
   * Every resource the request is authorized on: the request is allowed only when each is.
   * A restore is authorized on the target db, the source (snapshot or db) and the groups it names.
   */
  readonly resources: readonly AwsRequestResource[];
  /** Request-level condition keys (request tags, s3:prefix, iam:PassedToService, kms:ViaService). */
  readonly context?: ContextKeys;
  /**
   * Set when the check is made by an AWS service while it serves `command`, with the function's
   * identity (S3 calling KMS for an SSE-KMS object, RDS creating a KMS grant for an encrypted restore).
   */
  readonly onBehalfBy?: 's3' | 'rds';
  /**
   * Set when the code on this branch does not send this request yet, but an issue says it will
   * (the lead removes the mark when the code lands; the test fails if a command whose every entry
   * is pending is already sent).
   */
  readonly pending?: string;
}

/** A command the function's imported modules contain but the function never calls. */
export interface NotSent {
  readonly command: string;
  readonly reason: string;
}

/** The ARN patterns the lists use. */
export const ARN = {
  protectedDb: 'arn:{partition}:rds:{region}:{account}:db:{protected}',
  /** production's aside copy after a promotion, `<prod>-pre-promote-<UTC time>` */
  asideDb: 'arn:{partition}:rds:{region}:{account}:db:{aside}',
  restoreDb: 'arn:{partition}:rds:{region}:{account}:db:{restore}',
  kbSnapshot: 'arn:{partition}:rds:{region}:{account}:snapshot:{snapshot}',
  automatedBackup: 'arn:{partition}:rds:{region}:{account}:auto-backup:{autoBackup}',
  parameterGroup: 'arn:{partition}:rds:{region}:{account}:pg:{parameterGroup}',
  optionGroup: 'arn:{partition}:rds:{region}:{account}:og:{optionGroup}',
  subnetGroup: 'arn:{partition}:rds:{region}:{account}:subgrp:{subnetGroup}',
  /** the protected instance's own KMS key (not kb-dr's) */
  dbKey: 'arn:{partition}:kms:{region}:{account}:key/{dbKeyId}',
  backupKey: '{backupKeyArn}',
  exportRole: '{exportRoleArn}',
  bucket: 'arn:{partition}:s3:::{bucket}',
  manifestObject: 'arn:{partition}:s3:::{bucket}/manifests/{snapshot}.json',
  exportObject: 'arn:{partition}:s3:::{bucket}/exports/{exportTask}/{exportFile}',
  verificationObject: 'arn:{partition}:s3:::{bucket}/verifications/{restore}.json',
} as const;

/** The tags kb-dr passes when it creates a snapshot or an instance (request-level keys). */
export function requestTags(tags: Readonly<Record<string, string>>): ContextKeys {
  return {
    ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    'aws:TagKeys': Object.keys(tags),
  };
}

/** What S3 does with the caller's identity when it reads or writes an SSE-KMS object. */
export function s3Kms(command: string, action: 'kms:Decrypt' | 'kms:GenerateDataKey'): AwsRequest {
  return {
    command,
    action,
    purpose: `S3 ${action === 'kms:Decrypt' ? 'decrypts' : 'encrypts'} the object with the backup key`,
    resources: [{ arn: ARN.backupKey }],
    context: { 'kms:ViaService': 's3.{region}.amazonaws.com' },
    onBehalfBy: 's3',
  };
}

/** What RDS does with the caller's identity when it creates an encrypted instance. */
export function rdsKms(command: string): AwsRequest[] {
  return (['kms:CreateGrant', 'kms:DescribeKey'] as const).map((action) => ({
    command,
    action,
    purpose: "RDS uses the source's KMS key for the encrypted restored instance",
    resources: [{ arn: ARN.dbKey }],
    context: { 'kms:ViaService': 'rds.{region}.amazonaws.com' },
    onBehalfBy: 'rds' as const,
  }));
}

/** Reading a manifest: the object, 404-vs-403 for a missing one, and the decryption. */
export function readManifest(): AwsRequest[] {
  return [
    {
      command: 'GetObjectCommand',
      action: 's3:GetObject',
      purpose: 'read a backup manifest',
      resources: [{ arn: ARN.manifestObject }],
    },
    {
      command: 'GetObjectCommand',
      action: 's3:ListBucket',
      purpose:
        'S3 answers 404 for a missing manifest only to a caller with s3:ListBucket (the check carries no s3:prefix), else 403',
      resources: [{ arn: ARN.bucket }],
    },
    s3Kms('GetObjectCommand', 'kms:Decrypt'),
    {
      command: 'ListObjectsV2Command',
      action: 's3:ListBucket',
      purpose: 'list the manifests (latest successful backup)',
      resources: [{ arn: ARN.bucket }],
      context: { 's3:prefix': 'manifests/' },
    },
  ];
}

/** The kb-dr tag every snapshot and restored instance carries. */
export const MANAGED_BY_CONTEXT = { 'kb-dr:managed-by': 'kb-dr' } as const;
