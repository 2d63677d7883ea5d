import { isManagedByKbDr, tagRecord, tagTime, tagValue } from '../../../lambda/shared/tags';

const list = [
  { Key: 'kb-dr:managed-by', Value: 'kb-dr' },
  { Key: 'kb-dr:requested-at', Value: '2026-11-22T02:00:00.000Z' },
  { Key: 'kb-dr:trigger', Value: 'not-a-time' },
];

describe('tag helpers: one reading for RDS tag lists and records', () => {
  it('reads the same values from a TagList and from its record', () => {
    const record = tagRecord(list);
    for (const tags of [list, record]) {
      expect(tagValue(tags, 'kb-dr:trigger')).toBe('not-a-time');
      expect(tagValue(tags, 'absent')).toBeUndefined();
      expect(isManagedByKbDr(tags)).toBe(true);
      expect(tagTime(tags, 'kb-dr:requested-at')).toEqual(new Date('2026-11-22T02:00:00.000Z'));
      expect(tagTime(tags, 'kb-dr:trigger')).toBeUndefined();
    }
  });

  it('is not managed by kb-dr without the exact tag value', () => {
    expect(isManagedByKbDr(undefined)).toBe(false);
    expect(isManagedByKbDr([])).toBe(false);
    expect(isManagedByKbDr([{ Key: 'kb-dr:managed-by', Value: 'someone-else' }])).toBe(false);
    expect(isManagedByKbDr({ 'kb-dr:managed-by': 'KB-DR' })).toBe(false);
  });
});
