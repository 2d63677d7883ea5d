/** `kb-dr restore-tests`: flags checked before any call, the table, --json, a corrupt record, the dispatch. */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { main } from '../../bin/kb-dr';
import {
  formatDuration,
  formatRestoreTests,
  planRestoreTests,
  runRestoreTests,
} from '../../cli/commands/restore-tests';
import { fakeContext as context } from './shared/fake-context';
import { restoreTestRecordKey } from '../../core/naming';
import type { RestoreTestRecord } from '../../core/restore-test';

const s3 = mockClient(S3Client);

const PASSED: RestoreTestRecord = {
  version: 1,
  instanceId: 'kb-restore-test-20261125-0400',
  protectedInstanceId: 'kb-prod',
  kind: 'snapshot',
  backup: { snapshotId: 'kb-snapshot-20261125-020000' },
  outcome: 'PASS',
  requestedAt: '2026-11-25T04:00:00.000Z',
  availableAt: '2026-11-25T04:24:00.000Z',
  verifiedAt: '2026-11-25T04:31:00.000Z',
  secondsToAvailable: 1440,
  secondsToVerified: 3900,
  entries: {
    restored: { knowledge_entries: 100000, embedding_cache: 40000 },
    backup: { knowledge_entries: 100000, embedding_cache: 40000 },
  },
  recordedAt: '2026-11-25T04:45:00.000Z',
};
const FAILED: RestoreTestRecord = {
  ...PASSED,
  instanceId: 'kb-restore-test-20261202-0400',
  backup: { snapshotId: 'kb-snapshot-20261202-020000' },
  outcome: 'FAIL',
  failure: { reason: 'stuck', detail: 'still creating 6 h after the request (limit 6 h)' },
  requestedAt: '2026-12-02T04:00:00.000Z',
  secondsToVerified: undefined,
  verifiedAt: undefined,
  entries: undefined,
};
delete (FAILED as Partial<RestoreTestRecord>).secondsToVerified;
delete (FAILED as Partial<RestoreTestRecord>).verifiedAt;
delete (FAILED as Partial<RestoreTestRecord>).entries;

function body(text: string) {
  return { transformToString: async () => text } as never;
}

beforeEach(() => {
  s3.reset();
  const corruptKey = restoreTestRecordKey('kb-restore-test-20261118-0400');
  s3.on(ListObjectsV2Command).resolves({
    Contents: [
      { Key: corruptKey },
      { Key: restoreTestRecordKey(PASSED.instanceId) },
      { Key: restoreTestRecordKey(FAILED.instanceId) },
      { Key: 'restore-tests/notes.txt' },
    ],
  });
  s3.on(GetObjectCommand, { Key: restoreTestRecordKey(PASSED.instanceId) }).callsFake(() => ({
    Body: body(JSON.stringify(PASSED)),
  }));
  s3.on(GetObjectCommand, { Key: restoreTestRecordKey(FAILED.instanceId) }).callsFake(() => ({
    Body: body(JSON.stringify(FAILED)),
  }));
  s3.on(GetObjectCommand, { Key: corruptKey }).callsFake(() => ({ Body: body('{"version": 1') }));
});

describe('kb-dr restore-tests', () => {
  it.each([
    [{}, {}, /backup bucket is not known/],
    [{ bucket: 'b', limit: '0' }, {}, /--limit=0/],
    [{ bucket: 'b', limit: 'ten' }, {}, /--limit=ten/],
    [{ bucket: 'b', limit: '521' }, {}, /--limit=521/],
  ])('refuses %j (env %j) before any call', (flags, env, message) => {
    expect(() => planRestoreTests(flags, env)).toThrow(message);
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  it.each([
    [{ bucket: 'b' }, {}, { bucket: 'b', limit: 52, json: false }],
    [{}, { KB_BACKUP_BUCKET: 'from-env' }, { bucket: 'from-env', limit: 52, json: false }],
    [
      { bucket: 'flag', json: true, limit: '3' },
      { KB_BACKUP_BUCKET: 'env' },
      { bucket: 'flag', limit: 3, json: true },
    ],
  ])('plans %j with env %j', (flags, env, plan) => {
    expect(planRestoreTests(flags, env)).toEqual(plan);
  });

  it.each([
    [undefined, '-'],
    [59, '1 m'],
    [3900, '1 h 05 m'],
    [14_400, '4 h 00 m'],
  ])('formats %p seconds as %p', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('prints a table newest first, names the corrupt record on stderr and lists the others', async () => {
    // Prepare
    const ctx = context({ KB_BACKUP_BUCKET: 'kb-backups' });
    // Act
    const code = await runRestoreTests(ctx, {}, { s3: new S3Client({}) });
    // Assess
    expect(code).toBe(0);
    const lines = ctx.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^date \(UTC\)\s+test instance\s+backup\s+to available\s+to verified \(RTO\)\s+entries/,
    );
    expect(lines[1]).toMatch(
      /^2026-12-02 04:00\s+kb-restore-test-20261202-0400\s+kb-snapshot-20261202-020000\s+24 m\s+-\s+-\s+FAIL \(stuck: still creating/,
    );
    expect(lines[2]).toMatch(
      /^2026-11-25 04:00\s+kb-restore-test-20261125-0400\s+kb-snapshot-20261125-020000\s+24 m\s+1 h 05 m\s+100000 \/ 100000\s+PASS$/,
    );
    expect(lines).toHaveLength(3);
    expect(ctx.err()).toMatch(/restore-tests\/kb-restore-test-20261118-0400\.json is not valid JSON/);
  });

  it('prints the records as JSON with --json, through the CLI entry point', async () => {
    const ctx = context({ KB_BACKUP_BUCKET: 'kb-backups' });
    const code = await main(['restore-tests', '--json', '--limit', '2'], ctx);
    expect(code).toBe(0);
    expect(JSON.parse(ctx.out())).toEqual([FAILED, PASSED]);
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: 'kb-backups',
      Prefix: 'restore-tests/',
    });
  });

  it('exits 2 without a bucket, sending nothing', async () => {
    const ctx = context({});
    expect(await main(['restore-tests'], ctx)).toBe(2);
    expect(ctx.err()).toMatch(/--bucket=NAME or set KB_BACKUP_BUCKET/);
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  it('says so when no test is recorded yet', () => {
    expect(formatRestoreTests([])).toMatch(/no restore tests recorded yet/);
  });
});
