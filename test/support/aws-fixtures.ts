/**
 * The one family of AWS fixtures the tests share: the account, region, protected instance, key and
 * roles every fixture file builds its ARNs from. test/support/backup-fixtures.ts (the backup
 * pipeline's mocked answers), test/support/restore-fixtures.ts (the restore functions' mocked
 * answers), test/support/export-fixtures.ts and test/support/moto-seed.ts (the same backups written
 * into moto) all start from these, so a snapshot, key or role means the same thing in every test.
 */
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
/** The protected instance. */
export const INSTANCE = 'kb-prod';
export const KMS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const EXPORT_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/kb-dr-export`;

export const snapshotArn = (id: string): string => `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:${id}`;
export const instanceArn = (id: string): string => `arn:aws:rds:${REGION}:${ACCOUNT}:db:${id}`;
