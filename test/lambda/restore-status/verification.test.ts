/**
 * restore-status reports the restore's data verification from verify-restore's record: "verified"
 * only for a stored PASS; never PASS when verification is not configured or could not connect.
 */
import { AddTagsToResourceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { restoreStatus, type VerificationReader } from '../../../lambda/restore-status/restore-status';
import type { StoredVerification } from '../../../lambda/shared/verification-store';
import type { VerificationRecord } from '../../../core/verification';
import {
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
  MANAGED_BY_TAG,
} from '../../../core/naming';
import { CONFIG, NOW, restoredInstance } from '../../support/restore-fixtures';
import { recordingSink } from '../support/metrics';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'us-east-1' });

const record = (outcome: VerificationRecord['outcome'], summary: string): VerificationRecord => ({
  version: 1,
  instanceId: 'kb-restore-drill-1',
  outcome,
  source: { kind: 'snapshot', snapshotId: 'kb-snapshot-20261122-020000' },
  startedAt: NOW.toISOString(),
  verifiedAt: NOW.toISOString(),
  checks: [{ check: 'database accessible', status: outcome === 'PASS' ? 'PASS' : 'FAIL', detail: 'd' }],
  summary,
});
const reader = (stored: StoredVerification | Error, configured = true): VerificationReader => ({
  read: async () => {
    if (stored instanceof Error) throw stored;
    return stored;
  },
  configured,
});

function run(verification: VerificationReader | undefined, status = 'available') {
  rdsMock.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      restoredInstance({
        DBInstanceStatus: status,
        TagList: [
          { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
          { Key: RESTORE_STARTED_AT_TAG_KEY, Value: '2026-11-22T02:30:00.000Z' },
          { Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: 'kb-snapshot-20261122-020000' },
        ],
      }),
    ],
  });
  return restoreStatus(
    {
      rds,
      config: CONFIG,
      metrics: recordingSink(),
      now: () => NOW,
      ...(verification ? { verification } : {}),
    },
    { targetInstanceId: 'kb-restore-drill-1' },
  );
}

describe('restore-status reports the verification', () => {
  beforeEach(() => {
    rdsMock.reset();
    rdsMock.on(AddTagsToResourceCommand).resolves({});
  });

  it('a stored PASS: "available; verified: ..." and no "connect and run your smoke queries" step', async () => {
    const summary = 'verified: 100,000 entries, as recorded at backup; newest entry 01:59:58Z';
    const res = await run(reader({ kind: 'record', record: record('PASS', summary) }));
    expect(res.summary).toBe(`available; ${summary}`);
    expect(res.verification).toMatchObject({ status: 'verified', report: ['PASS database accessible: d'] });
    expect(res.todo.join('\n')).not.toMatch(/smoke queries/);
  });

  it('a stored FAIL: "available; verification FAILED: ..." and a step saying not to promote it', async () => {
    const summary = 'verification FAILED: Knowledge Base tables present: missing public.embedding_cache';
    const res = await run(reader({ kind: 'record', record: record('FAIL', summary) }));
    expect(res.summary).toBe(`available; ${summary}`);
    expect(res.verification?.status).toBe('failed');
    expect(res.todo[0]).toMatch(/^the data checks FAILED: .*do not promote this instance/);
  });

  it('not configured and no record: "not verified: verification is not configured (see ...)"', async () => {
    const res = await run(reader({ kind: 'absent' }, false));
    expect(res.summary).toBe(
      'available; not verified: verification is not configured (see docs/DISASTER-RECOVERY-RUNBOOK.md#verifying-a-restored-instance)',
    );
    expect(res.verification?.status).toBe('not-configured');
  });

  it('a NOT_CONFIGURED record is never reported as verified', async () => {
    const res = await run(
      reader({
        kind: 'record',
        record: record('NOT_CONFIGURED', 'not verified: verification is not configured (see x)'),
      }),
    );
    expect(res.verification?.status).toBe('not-configured');
    expect(res.summary).toBe('available; not verified: verification is not configured (see x)');
  });

  it('configured, no record yet: pending, with the event to run it now', async () => {
    const res = await run(reader({ kind: 'absent' }));
    expect(res.verification?.status).toBe('pending');
    expect(res.summary).toMatch(
      /^available; not verified yet: .*verify-restore \{"targetInstanceId":"kb-restore-drill-1"\}/,
    );
  });

  it('an unreadable record or a read that fails: not verified, with the reason', async () => {
    expect(
      (await run(reader({ kind: 'corrupt', reason: 's3://b/k is not a valid verification record' }))).summary,
    ).toMatch(
      /^available; not verified: s3:\/\/b\/k is not a valid verification record; run verify-restore .*"reverify":true/,
    );
    expect((await run(reader(new Error('AccessDenied')))).summary).toBe(
      'available; not verified: the verification record could not be read (AccessDenied)',
    );
  });

  it('a restore still in progress reports no verification and reads no record', async () => {
    const read = jest.fn();
    const res = await run({ read, configured: true }, 'creating');
    expect(res.verification).toBeUndefined();
    expect(res.summary).toBeUndefined();
    expect(read).not.toHaveBeenCalled();
  });
});
