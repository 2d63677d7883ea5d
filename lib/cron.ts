/**
 * The schedule grammar of kb-dr's settings: a standard 5-field cron (minute hour day-of-month month
 * day-of-week), checked field by field, and its translation to EventBridge Scheduler's 6-field
 * `cron(m h dom mon dow year)` expression. Problems are returned as sentence fragments ("minute
 * value 61 is outside 0-59") that lib/config.ts puts after the setting's name.
 */

/** Month names, JAN = 1. Names are accepted in any case and written upper case for EventBridge. */
export const MONTHS = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
] as const;
/** Day names, SUN = 0 (standard cron; 7 is Sunday as well). */
export const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/** One cron field: its name in messages, its range, and the names it accepts. */
export interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** The number of `names[0]`: 1 for months (JAN), 0 for days (SUN). */
  readonly firstName?: number;
}

export const FIELDS: readonly [CronField, CronField, CronField, CronField, CronField] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, firstName: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, firstName: 0 },
];

const [, , DAY_OF_MONTH, MONTH, DAY_OF_WEEK] = FIELDS;

/** Longest month, leap years included (a schedule on 29 FEB runs every four years). */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

const PART = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/;

/** A number or a name of `spec`, as a number; undefined when it is neither. */
function tokenValue(token: string, spec: CronField): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  return index < 0 ? undefined : index + (spec.firstName ?? 0);
}

/** Why `field` is not a valid `spec` field (number, name, range, step or list), or undefined. */
export function checkCronField(field: string, spec: CronField): string | undefined {
  for (const part of field.split(',')) {
    const m = PART.exec(part);
    if (!m) return `${spec.name} field "${field}" is not a number, range, list or step`;
    const [, base = '', step] = m;
    if (step !== undefined && Number(step) < 1) return `${spec.name} step must be at least 1`;
    if (base === '*') continue;
    const values: number[] = [];
    for (const token of base.split('-')) {
      const value = tokenValue(token, spec);
      if (value === undefined) return `${spec.name} value "${token}" is not recognised`;
      if (value < spec.min || value > spec.max) {
        return `${spec.name} value ${token} is outside ${spec.min}-${spec.max}`;
      }
      values.push(value);
    }
    const [from = 0, to = from] = values;
    if (from > to) {
      return `${spec.name} range ${base} runs backwards; write the earlier value first, or list the values`;
    }
  }
  return undefined;
}

/**
 * The values a field (already checked) selects. A single value with a step, `a/n`, counts from `a`
 * to the field's end, as EventBridge reads it.
 */
export function cronFieldValues(field: string, spec: CronField): number[] {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [base = '', step = '1'] = part.split('/');
    const tokens = base === '*' ? [] : base.split('-');
    const from = tokens[0] === undefined ? spec.min : (tokenValue(tokens[0], spec) ?? spec.min);
    const last = tokens[1] ?? (base === '*' || part.includes('/') ? undefined : tokens[0]);
    const to = last === undefined ? spec.max : (tokenValue(last, spec) ?? spec.max);
    for (let v = from; v <= to; v += Math.max(1, Number(step))) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * A standard day-of-week field (0 or 7 = Sunday) in EventBridge's numbering (1 = Sunday .. 7 =
 * Saturday), names upper case. A range or step that reaches 7 (Sunday) would wrap in EventBridge's
 * numbering, so it is written out as a list.
 */
export function toEventBridgeDayOfWeek(field: string): string {
  return field
    .split(',')
    .map((part) => {
      const [base = '', step] = part.toUpperCase().split('/');
      const reaches7 =
        base.split('-').some((t) => tokenValue(t, DAY_OF_WEEK) === 7) ||
        cronFieldValues(part, DAY_OF_WEEK).includes(7);
      const wraps = base !== '*' && /[-/]/.test(part) && reaches7;
      if (!wraps) {
        // Only the days move; a step (`*/2`) counts the same in both numberings.
        const days = base.replace(/\d+/g, (d) => String((Number(d) % 7) + 1));
        return step === undefined ? days : `${days}/${step}`;
      }
      const days = new Set(cronFieldValues(part, DAY_OF_WEEK).map((v) => (v % 7) + 1));
      return [...days].sort((a, b) => a - b).join(',');
    })
    .join(',');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** Why `cron` is not a 5-field cron EventBridge can schedule, or undefined. */
export function cronProblem(cron: unknown): string | undefined {
  if (typeof cron !== 'string') return `is ${describe(cron)}, not text such as "0 2 * * *"`;
  const text = cron.trim();
  if (text === '') return 'is empty; a cron needs 5 fields (minute hour day month weekday)';
  if (/^(cron|rate|at)\(/i.test(text)) {
    return 'is an EventBridge expression; give the 5-field cron instead (minute hour day month weekday), kb-dr writes the EventBridge form';
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    const six =
      fields.length === 6 ? ' (no seconds and no year: kb-dr adds the year field EventBridge needs)' : '';
    return `has ${fields.length} fields; a cron needs 5 (minute hour day month weekday)${six}`;
  }
  for (const [i, field] of fields.entries()) {
    const problem = checkCronField(field, FIELDS[i] as CronField);
    if (problem) return problem;
  }
  const [, , dom = '*', month = '*', dow = '*'] = fields;
  if (dom !== '*' && dow !== '*') {
    return 'restricts both day-of-month and day-of-week, which EventBridge cannot schedule';
  }
  if (dom !== '*') {
    const days = cronFieldValues(dom, DAY_OF_MONTH);
    const months = cronFieldValues(month, MONTH);
    if (!months.some((m) => days.some((d) => d <= (DAYS_IN_MONTH[m - 1] ?? 31)))) {
      return `day-of-month ${dom} never occurs in month ${month}, so the schedule would never run`;
    }
  }
  return undefined;
}

/**
 * Validate a 5-field cron and return the EventBridge Scheduler expression, or throw with the
 * reason. EventBridge needs `?` in one of day-of-month/day-of-week, so both cannot be restricted.
 */
export function toScheduleExpression(cron: string): string {
  const problem = cronProblem(cron);
  if (problem) throw new Error(problem);
  const [minute, hour, dom, month, dow] = cron.trim().split(/\s+/) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const ebDom = dow !== '*' ? '?' : dom;
  const ebDow = dow !== '*' ? toEventBridgeDayOfWeek(dow) : '?';
  return `cron(${minute} ${hour} ${ebDom} ${month.toUpperCase()} ${ebDow} *)`;
}
