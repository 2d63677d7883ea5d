/**
 * The one family of AWS fixtures the tests share: the account, region, protected instance, key and
 * roles every fixture file builds its ARNs from. test/support/backup-fixtures.ts (the backup
 * pipeline's mocked answers), test/support/restore-fixtures.ts (the restore functions' mocked
 * answers), test/support/export-fixtures.ts and test/support/moto-seed.ts (the same backups written
 * into moto) all start from these, so a snapshot, key or role means the same thing in every test.
 */
import type { DBSnapshot, Tag } from '@aws-sdk/client-rds';
import { MANAGED_BY_TAG, REQUESTED_AT_TAG_KEY, snapshotIdFor, TRIGGER_TAG_KEY } from '../../core/naming';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
/** The protected instance. */
export const INSTANCE = 'kb-prod';
export const KMS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const EXPORT_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/kb-dr-export`;

export const snapshotArn = (id: string): string => `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:${id}`;
export const instanceArn = (id: string): string => `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}`;

/** The tags kb-dr puts on a snapshot it takes. */
export function kbTags(trigger: 'scheduled' | 'on-demand', requestedAt: Date, extra: Tag[] = []): Tag[] {
  return [
    { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
    { Key: TRIGGER_TAG_KEY, Value: trigger },
    { Key: REQUESTED_AT_TAG_KEY, Value: requestedAt.toISOString() },
    ...extra,
  ];
}

/** When a snapshot named by id alone was taken (the restore tests' default backup). */
const DEFAULT_SNAPSHOT_TIME = new Date('2026-11-22T02:00:05Z');

/**
 * A kb-dr snapshot of the protected instance, encrypted with the key and tagged as kb-dr tags it:
 * taken at a time (its id follows from it, as the backup function names it), or named by its id
 * (taken at a fixed time; override `SnapshotCreateTime` where the time matters).
 */
export function kbSnapshot(
  takenAtOrId: Date | string = 'kb-snapshot-20261122-020000',
  overrides: Partial<DBSnapshot> = {},
): DBSnapshot {
  const at = typeof takenAtOrId === 'string' ? DEFAULT_SNAPSHOT_TIME : takenAtOrId;
  const id =
    overrides.DBSnapshotIdentifier ?? (typeof takenAtOrId === 'string' ? takenAtOrId : snapshotIdFor(at));
  return {
    DBSnapshotIdentifier: id,
    DBSnapshotArn: snapshotArn(id),
    DBInstanceIdentifier: INSTANCE,
    SnapshotType: 'manual',
    Status: 'available',
    Encrypted: true,
    KmsKeyId: KMS_KEY_ARN,
    SnapshotCreateTime: at,
    AllocatedStorage: 20,
    TagList: kbTags('scheduled', at),
    ...overrides,
  };
}
