/**
 * Strict ISO 8601 times for every time field kb-dr accepts (PITR `targetTime`, the backup event's
 * `time`). JavaScript's Date silently rolls impossible dates forward (2026-11-31 becomes
 * 1 December, 24:00 the next day), so the calendar is checked field by field before any Date is
 * built.
 */

/** ISO 8601 date-time with an explicit `Z` or `±hh:mm` offset. */
export const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):(\d{2}))$/i;
export const ISO_WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/i;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Why the fields of a syntactically valid time do not name a real instant, if they do not. */
export function calendarProblem(m: RegExpExecArray): string | undefined {
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12) return `month ${mo} does not exist`;
  if (d < 1 || d > daysIn(y, mo)) return `${MONTHS[mo - 1]} ${y} has ${daysIn(y, mo)} days`;
  if (h > 23) return `hour ${h} does not exist (00-23; 24:00 is not accepted, use 00:00 of the next day)`;
  if (mi > 59) return `minute ${mi} does not exist`;
  if (sec > 59) return `second ${sec} does not exist`;
  if ((m[7]?.length ?? 0) > 3)
    return `it has ${m[7]?.length} fractional digits; RDS restores to the millisecond, give at most 3`;
  if (m[8] !== 'Z' && m[8] !== 'z' && (Number(m[9]) > 14 || Number(m[10]) > 59))
    return `offset ${m[8]} does not exist`;
  return undefined;
}
