/** Restore-test names and the record schema: one format, parsed strictly. */
import {
  isRestoreTestInstanceId,
  parseRestoreTestInstanceId,
  restoreTestInstanceIdFor,
  restoreTestRecordKey,
} from '../../core/naming';
import { CorruptRestoreTestRecordError, parseRestoreTestRecord } from '../../core/restore-test';

describe('restore-test names', () => {
  it('names a test after the UTC minute of its scheduled time', () => {
    expect(restoreTestInstanceIdFor(new Date('2026-11-25T04:00:59.999Z'))).toBe(
      'kb-restore-test-20261125-0400',
    );
    expect(restoreTestInstanceIdFor(new Date('2026-11-25T05:30:00+01:00'))).toBe(
      'kb-restore-test-20261125-0430',
    );
  });

  it.each([
    ['kb-restore-test-20261125-0400', true],
    ['kb-restore-test-20261325-0400', false],
    ['kb-restore-test-20261125-2400', false],
    ['kb-restore-test-20261125-0400x', false],
    ['KB-RESTORE-TEST-20261125-0400', false],
    ['kb-restore-20261125-0400', false],
    ['kb-prod', false],
  ])('%s is a restore-test instance id: %p', (id, ok) => {
    expect(isRestoreTestInstanceId(id)).toBe(ok);
    expect(parseRestoreTestInstanceId(id) !== undefined).toBe(ok);
  });

  it('keys records under restore-tests/ by instance, and refuses any other name', () => {
    expect(restoreTestRecordKey('kb-restore-test-20261125-0400')).toBe(
      'restore-tests/kb-restore-test-20261125-0400.json',
    );
    expect(() => restoreTestRecordKey('../manifests/kb-snapshot-20261125-020000')).toThrow(RangeError);
  });
});

describe('parseRestoreTestRecord', () => {
  const valid = {
    version: 1,
    instanceId: 'kb-restore-test-20261125-0400',
    protectedInstanceId: 'kb-prod',
    kind: 'snapshot',
    backup: { snapshotId: 'kb-snapshot-20261125-020000' },
    outcome: 'PASS',
    requestedAt: '2026-11-25T04:00:00.000Z',
    recordedAt: '2026-11-25T05:00:00.000Z',
  };

  it('reads a valid record', () => {
    expect(parseRestoreTestRecord(JSON.stringify(valid), 's3://b/k').outcome).toBe('PASS');
  });

  it.each([
    ['not JSON', '{"version": 1', /is not valid JSON/],
    ['an unknown field', JSON.stringify({ ...valid, passed: true }), /malformed/],
    ['an unknown outcome', JSON.stringify({ ...valid, outcome: 'OK' }), /malformed/],
    ['a time without zone', JSON.stringify({ ...valid, requestedAt: '2026-11-25 04:00' }), /malformed/],
  ])('reports %s as corrupt, naming the object', (_what, text, message) => {
    expect(() => parseRestoreTestRecord(text, 's3://b/restore-tests/x.json')).toThrow(
      CorruptRestoreTestRecordError,
    );
    expect(() => parseRestoreTestRecord(text, 's3://b/restore-tests/x.json')).toThrow(message);
  });
});
