/**
 * The verify-restore handler routes its three inputs: an RDS instance event (verify that instance),
 * the periodic pass (`{"pass": true}`), and a console event; a bad event is refused before any call.
 */
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { restoredInstance } from '../../support/restore-fixtures';

const rdsMock = mockClient(RDSClient);
const s3Mock = mockClient(S3Client);
type Handler = (event: unknown) => Promise<Record<string, unknown>>;
let handler: Handler;

beforeAll(async () => {
  Object.assign(process.env, {
    KB_DB_INSTANCE_ID: 'kb-prod',
    KB_BACKUP_BUCKET: 'kb-backups-unit',
    KB_EXPORT_ROLE_ARN: 'arn:aws:iam::123456789012:role/x',
    KB_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/x',
    KB_VERIFY_MODE: 'not-configured',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  handler = (await import('../../../lambda/verify-restore')).handler as unknown as Handler;
});
beforeEach(() => {
  rdsMock.reset();
  s3Mock.reset();
});

describe('verify-restore handler', () => {
  it('an RDS event verifies the instance it names (here: still creating, so nothing is stored)', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'kb-restore-evt' }).resolves({
      DBInstances: [
        restoredInstance(
          {
            DBInstanceStatus: 'creating',
            TagList: [
              { Key: 'kb-dr:managed-by', Value: 'kb-dr' },
              { Key: 'kb-dr:restored-from-snapshot', Value: 'kb-snapshot-20261122-020000' },
            ],
          },
          'kb-restore-evt',
        ),
      ],
    });
    const res = await handler({
      source: 'aws.rds',
      'detail-type': 'RDS DB Instance Event',
      detail: { EventID: 'RDS-EVENT-0008', SourceIdentifier: 'kb-restore-evt' },
    });
    expect(res).toMatchObject({ ok: true, targetInstanceId: 'kb-restore-evt', outcome: 'NOT_AVAILABLE' });
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('{"pass": true} runs the periodic pass', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    expect(await handler({ pass: true })).toEqual({ ok: true, mode: 'pass', verified: [], left: [] });
  });

  it('a misspelled field is refused with the field it meant, before any AWS call', async () => {
    const res = await handler({ targetInstanceID: 'kb-restore-1' });
    expect(res).toMatchObject({ ok: false, errorType: 'ValidationError', field: 'targetInstanceId' });
    expect(rdsMock).not.toHaveReceivedAnyCommand();
    expect(s3Mock).not.toHaveReceivedCommand(GetObjectCommand);
  });
});
