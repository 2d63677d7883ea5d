/**
 * The flags of find-backup and recover-entries, checked before anything is read or touched: one
 * line per input a hostile operator (or a tired one) types.
 */
import { ValidationError } from '../../core/errors';
import { planFindBackup } from '../../cli/commands/find-backup';
import { planRecoverEntries } from '../../cli/commands/recover-entries';
import {
  parseIds,
  parseSelection,
  parseTag,
  parseZonedTime,
  selectionWhere,
} from '../../cli/local/recovery-selection';

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('recover-entries selection', () => {
  it.each([
    ['--ids=abc', () => parseIds('abc'), /"abc", which is not an id/],
    ['--ids=1.5', () => parseIds('1.5'), /not an id/],
    ['--ids=-3', () => parseIds('-3'), /not an id/],
    ['--ids=0', () => parseIds('0'), /outside 1 to/],
    ['--ids=1,,2', () => parseIds('1,,2'), /empty item/],
    ['--ids=9-3', () => parseIds('9-3'), /ends before it starts/],
    ['--ids=99999999999999999999', () => parseIds('99999999999999999999'), /not an id/],
    ['--ids=1-2000000', () => parseIds('1-2000000'), /more than 100000 ids/],
    [
      '--ids="1; DROP TABLE knowledge_entries"',
      () => parseIds('1; DROP TABLE knowledge_entries'),
      /not an id/,
    ],
    ['--ids="1) OR (1=1"', () => parseIds('1) OR (1=1'), /not an id/],
    ["--tag=\"x' OR '1'='1\"", () => parseTag("x' OR '1'='1"), /is not a tag/],
    ['--tag=topic%', () => parseTag('topic%'), /is not a tag/],
    ['--tag="two words"', () => parseTag('two words'), /is not a tag/],
    ['--tag=-leading', () => parseTag('-leading'), /is not a tag/],
    ['--tag=', () => parseTag(''), /is not a tag/],
    [
      '--created-after=2026-02-30T00:00:00Z',
      () => parseSelection({ createdAfter: '2026-02-30T00:00:00Z' }),
      /February 2026 has 28 days/,
    ],
    [
      '--created-after=2026-11-22T24:00:00Z',
      () => parseSelection({ createdAfter: '2026-11-22T24:00:00Z' }),
      /hour 24 does not exist/,
    ],
    [
      '--created-before=2026-11-22T01:30:00',
      () => parseSelection({ createdBefore: '2026-11-22T01:30:00' }),
      /has no time zone/,
    ],
    [
      '--created-before=yesterday',
      () => parseSelection({ createdBefore: 'yesterday' }),
      /not an ISO 8601 time/,
    ],
    [
      '--created-after after --created-before',
      () => parseSelection({ createdAfter: '2026-11-22T02:00:00Z', createdBefore: '2026-11-22T01:00:00Z' }),
      /the range is empty/,
    ],
  ])('refuses %s', (_label, fn, reason) => {
    expect(refusal(fn)).toMatch(reason);
  });

  it('accepts ids, ranges, tags and zoned times', () => {
    expect(parseIds('5, 7-9,5')).toEqual(['5', '7', '8', '9']);
    expect(parseTag('team:platform/db_2.0-x')).toBe('team:platform/db_2.0-x');
    expect(parseZonedTime('2026-11-22T03:30:00+02:00', '--before').toISOString()).toBe(
      '2026-11-22T01:30:00.000Z',
    );
  });

  it('binds every value as a parameter; the SQL holds only placeholders and fixed column names', () => {
    const s = parseSelection({
      ids: '1,2',
      tag: 'topic-3',
      createdAfter: '2026-01-01T00:00:00Z',
      createdBefore: '2026-02-01T00:00:00Z',
    });
    const where = selectionWhere(s, 't', 3);
    expect(where.sql).toBe(
      't.id = ANY($3::bigint[]) AND $4::text = ANY(t.tags) AND t.created_at >= $5::timestamptz AND t.created_at < $6::timestamptz',
    );
    expect(where.params).toEqual([
      ['1', '2'],
      'topic-3',
      '2026-01-01T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ]);
    expect(selectionWhere({}, 't')).toEqual({ sql: 'true', params: [] });
  });
});

describe('recover-entries flags', () => {
  const env = {};
  it.each([
    ['no source', {}, /exactly one source/],
    ['two sources', { backupFile: 'f', fromInstance: 'kb-restore-1' }, /exactly one source/],
    ['production as the source', { fromInstance: 'kb-prod' }, /not a restored instance/],
    ['an instance id RDS would refuse', { fromInstance: 'kb-restore--x' }, /not a restored instance/],
    [
      'instance options with a file',
      { backupFile: 'f', sourceHost: 'h' },
      /--source-host applies to --from-instance/,
    ],
    ['a bad port', { fromInstance: 'kb-restore-1', sourcePort: '70000' }, /not a TCP port/],
    [
      'no TLS to a remote host',
      { fromInstance: 'kb-restore-1', sourceHost: 'db.example.com', sourceNoTls: true },
      /loopback/,
    ],
    [
      'a source time without zone',
      { fromInstance: 'kb-restore-1', sourceTime: '2026-11-22T01:00' },
      /has no time zone/,
    ],
    [
      '--allow-other-target alone',
      { backupFile: 'f', allowOtherTarget: true },
      /goes with --target-database/,
    ],
    ['a SQL-ish tag', { backupFile: 'f', tag: "'; DELETE FROM knowledge_entries; --" }, /is not a tag/],
  ])('refuses %s', (_label, flags, reason) => {
    expect(refusal(() => planRecoverEntries(flags, env))).toMatch(reason);
  });

  it('accepts a restored instance over a loopback tunnel without TLS', () => {
    expect(
      planRecoverEntries(
        {
          fromInstance: 'kb-restore-recover-1',
          sourceHost: '127.0.0.1',
          sourcePort: '6543',
          sourceNoTls: true,
          tag: 'x',
        },
        env,
      ),
    ).toEqual({
      source: {
        kind: 'instance',
        instanceId: 'kb-restore-recover-1',
        host: '127.0.0.1',
        port: 6543,
        noTls: true,
      },
      selection: { tag: 'x' },
      allowOtherTarget: false,
      confirm: false,
      force: false,
      includeCache: true,
      json: false,
    });
  });
});

describe('find-backup flags', () => {
  it.each([
    ['no --before', {}, /--before is required/],
    ['a time without zone', { before: '2026-11-22T14:05' }, /has no time zone/],
    ['30 February', { before: '2026-02-30T10:00:00Z' }, /February 2026 has 28 days/],
    ['--pitr without --rds', { before: '2026-11-22T14:05:00Z', pitr: true }, /needs --rds/],
    ['--local with --rds', { before: '2026-11-22T14:05:00Z', local: true, rds: true }, /exclude each other/],
    ['--rds without an instance', { before: '2026-11-22T14:05:00Z', rds: true }, /which protected instance/],
    ['a bad limit', { before: '2026-11-22T14:05:00Z', limit: 'ten' }, /not a whole number/],
  ])('refuses %s', (_label, flags, reason) => {
    expect(refusal(() => planFindBackup(flags, {}))).toMatch(reason);
  });

  it('defaults to local, five points; --rds takes the instance from KB_DB_INSTANCE_ID', () => {
    expect(planFindBackup({ before: '2026-11-22T14:05:00+01:00' }, {})).toMatchObject({
      mode: 'local',
      limit: 5,
    });
    expect(
      planFindBackup({ before: '2026-11-22T14:05:00Z', rds: true }, { KB_DB_INSTANCE_ID: 'kb-prod' }),
    ).toMatchObject({
      mode: 'rds',
      instanceId: 'kb-prod',
    });
  });
});
