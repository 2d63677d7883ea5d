import {
  checkCronField,
  cronFieldValues,
  cronProblem,
  FIELDS,
  toEventBridgeDayOfWeek,
  toScheduleExpression,
} from '../../lib/cron';

const [MINUTE, , , MONTH, DAY_OF_WEEK] = FIELDS;

describe('toScheduleExpression', () => {
  it.each([
    ['0 2 * * *', 'cron(0 2 * * ? *)'],
    ['15 3 1 * *', 'cron(15 3 1 * ? *)'],
    ['0 2 * * 0', 'cron(0 2 ? * 1 *)'],
    ['0 2 * * 7', 'cron(0 2 ? * 1 *)'],
    ['0 2 * * 1-5', 'cron(0 2 ? * 2-6 *)'],
    ['0 2 * * MON-FRI', 'cron(0 2 ? * MON-FRI *)'],
    ['*/30 * * JAN,JUL *', 'cron(*/30 * * JAN,JUL ? *)'],
    ['0 2 29 2 *', 'cron(0 2 29 2 ? *)'],
    ['0 2 31 1-12 *', 'cron(0 2 31 1-12 ? *)'],
    ['0/15 * * * *', 'cron(0/15 * * * ? *)'],
  ])('translates %s to the EventBridge form %s', (cron, expected) => {
    expect(toScheduleExpression(cron)).toBe(expected);
  });

  it('ignores surrounding and repeated white space, tabs and newlines included', () => {
    expect(toScheduleExpression('  0   2 *\t* \n 1  ')).toBe('cron(0 2 ? * 2 *)');
  });

  it('writes day and month names upper case, as EventBridge documents them', () => {
    expect(toScheduleExpression('0 2 * * mon-fri')).toBe('cron(0 2 ? * MON-FRI *)');
    expect(toScheduleExpression('0 2 1 jan,Jul *')).toBe('cron(0 2 1 JAN,JUL ? *)');
  });

  it.each([
    ['', /is empty; a cron needs 5 fields/],
    ['   ', /is empty/],
    ['0 2 * *', /has 4 fields; a cron needs 5/],
    ['0 0 2 * * *', /has 6 fields; a cron needs 5 .*no seconds and no year/],
    ['0 2 * * * 2026 x', /has 7 fields/],
    ['@daily', /has 1 fields/],
    ['cron(0 2 * * ? *)', /is an EventBridge expression; give the 5-field cron/],
    ['rate(1 day)', /is an EventBridge expression/],
    ['60 2 * * *', /minute value 60 is outside 0-59/],
    ['0 24 * * *', /hour value 24 is outside 0-23/],
    ['0 2 0 * *', /day-of-month value 0 is outside 1-31/],
    ['0 2 32 * *', /day-of-month value 32 is outside 1-31/],
    ['0 2 * 13 *', /month value 13 is outside 1-12/],
    ['0 2 * 0 *', /month value 0 is outside 1-12/],
    ['0 2 * * 8', /day-of-week value 8 is outside 0-7/],
    ['*/0 * * * *', /minute step must be at least 1/],
    ['0 2 * * 5-1', /day-of-week range 5-1 runs backwards/],
    ['0 2 * * FRI-MON', /day-of-week range FRI-MON runs backwards/],
    ['0 2 * DEC-JAN *', /month range DEC-JAN runs backwards/],
    ['30-10 * * * *', /minute range 30-10 runs backwards/],
    ['0 2 1 * MON', /restricts both day-of-month and day-of-week/],
    ['0 2 30 2 *', /day-of-month 30 never occurs in month 2, so the schedule would never run/],
    ['0 2 31 APR,JUN,SEP,NOV *', /day-of-month 31 never occurs/],
    ['0 2 * * FUNDAY', /day-of-week value "FUNDAY" is not recognised/],
    ['0 2 * JAN-13 *', /month value 13 is outside 1-12/],
    ['0 2 * * MON,', /day-of-week field "MON," is not a number, range, list or step/],
    ['0 2 * * ?', /day-of-week field "\?" is not a number/],
    ['0 2 L * *', /day-of-month value "L" is not recognised/],
    ['0 2 * * 1#2', /is not a number, range, list or step/],
    ['-1 2 * * *', /is not a number, range, list or step/],
    ['0 2 * * 1-2-3', /is not a number, range, list or step/],
    ['0 2 * * SUN/x', /is not a number, range, list or step/],
    ['0 JAN * * *', /hour value "JAN" is not recognised/],
  ])('refuses %j: %s', (cron, why) => {
    expect(() => toScheduleExpression(cron)).toThrow(why);
    expect(cronProblem(cron)).toMatch(why);
  });

  it.each([
    [undefined, /is a undefined, not text/],
    [null, /is null, not text/],
    [2, /is a number, not text/],
    [true, /is a boolean, not text/],
    [['0', '2', '*', '*', '*'], /is a list, not text/],
    [{ minute: 0 }, /is a object, not text/],
  ])('refuses a value that is not text (%p) instead of crashing', (value, why) => {
    expect(cronProblem(value)).toMatch(why);
    expect(() => toScheduleExpression(value as unknown as string)).toThrow(why);
  });

  it('accepts every valid cron it is given and rejects nothing valid: a 29 FEB schedule runs in leap years', () => {
    expect(cronProblem('0 2 29 FEB *')).toBeUndefined();
  });
});

describe('toEventBridgeDayOfWeek: standard 0-7 (0 and 7 = Sunday) to EventBridge 1-7 (1 = Sunday)', () => {
  it.each([
    ['0', '1'],
    ['7', '1'],
    ['1', '2'],
    ['6', '7'],
    ['1-5', '2-6'],
    ['0-6', '1-7'],
    ['1,3,5', '2,4,6'],
    ['*/2', '*/2'],
    ['MON-FRI', 'MON-FRI'],
    ['sun', 'SUN'],
    ['1-5/2', '2-6/2'],
    // A range or step through 7 (Sunday) would wrap in EventBridge's numbering: written as a list.
    ['5-7', '1,6,7'],
    ['0-7', '1,2,3,4,5,6,7'],
    ['1-7/2', '1,2,4,6'],
    ['5/2', '1,6'],
    ['FRI-7', '1,6,7'],
    ['6,7', '7,1'],
  ])('%s becomes %s', (standard, eventBridge) => {
    expect(toEventBridgeDayOfWeek(standard)).toBe(eventBridge);
  });

  it('selects the same days of the week as the standard field, for every range, step and single day', () => {
    const fields: string[] = [];
    for (let step = 1; step <= 7; step++) {
      fields.push(`*/${step}`);
      for (let from = 0; from <= 7; from++) {
        fields.push(`${from}`, `${from}/${step}`);
        for (let to = from; to <= 7; to++) fields.push(`${from}-${to}`, `${from}-${to}/${step}`);
      }
    }
    const eventBridge = { ...DAY_OF_WEEK, min: 1, max: 7 }; // 1 = Sunday .. 7 = Saturday
    for (const field of fields) {
      const expected = new Set(cronFieldValues(field, DAY_OF_WEEK).map((d) => d % 7)); // 0 = Sunday
      const translated = toEventBridgeDayOfWeek(field);
      const selected = new Set(cronFieldValues(translated, eventBridge).map((d) => d - 1));
      expect({ field, days: [...selected].sort() }).toEqual({ field, days: [...expected].sort() });
    }
  });
});

describe('checkCronField and cronFieldValues', () => {
  const byName = Object.fromEntries(FIELDS.map((f) => [f.name, f]));
  it.each([
    ['minute', '*/15', [0, 15, 30, 45]],
    ['minute', '5,10-12', [5, 10, 11, 12]],
    ['hour', '22/1', [22, 23]],
    ['day-of-month', '*/10', [1, 11, 21, 31]],
    ['month', 'JAN,mar-APR', [1, 3, 4]],
    ['day-of-week', 'SAT,SUN', [0, 6]],
  ])('%s field %s selects %j', (name, field, values) => {
    const spec = byName[name] ?? MINUTE;
    expect(checkCronField(field, spec)).toBeUndefined();
    expect(cronFieldValues(field, spec)).toEqual(values);
  });

  it('does not accept day names in the month field or month names in the day field', () => {
    expect(checkCronField('MON', MONTH)).toMatch(/month value "MON" is not recognised/);
    expect(checkCronField('JAN', DAY_OF_WEEK)).toMatch(/day-of-week value "JAN" is not recognised/);
  });
});
