/**
 * What `recover-entries` may be told to recover, parsed strictly from the command line: entry ids,
 * one tag, a created-at range. Nothing typed by the operator ever becomes SQL text: each value is
 * checked here and later bound as a query parameter (`selectionWhere`). Times follow the strict
 * rules of every kb-dr time (a zone required, no 30 February, no 24:00).
 */
import { ValidationError } from '../../core/errors';
import { ISO_WITHOUT_OFFSET, ISO_WITH_OFFSET, calendarProblem } from '../../lambda/shared/strict-time';

/** The entries to consider; every given filter applies (AND). No filter: all entries. */
export interface Selection {
  /** Entry ids (bigint), as decimal strings. */
  readonly ids?: readonly string[];
  readonly tag?: string;
  /** created_at >= this. */
  readonly createdFrom?: Date;
  /** created_at < this. */
  readonly createdBefore?: Date;
}

const MAX_IDS = 100_000;
const BIGINT_MAX = 9223372036854775807n;
/** Tags as the Knowledge Base writes them: letters, digits and `. _ : / -`, starting with a letter or digit. */
export const TAG_RE = /^[\p{L}\p{N}][\p{L}\p{N}._:/-]{0,99}$/u;

function echo(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(shown);
}

/**
 * A time with its zone, checked against the calendar; `option` names the flag in messages, e.g.
 * `--before`. Throws a ValidationError (exit 2, nothing changed) otherwise.
 */
export function parseZonedTime(value: string, option: string): Date {
  const example = `${option}=2026-11-22T01:30:00Z`;
  const text = value.trim();
  if (ISO_WITHOUT_OFFSET.test(text)) {
    throw new ValidationError(
      `${option} ${echo(value)} has no time zone: add Z for UTC or an offset such as +01:00, e.g. ${example}`,
      option,
      { hint: 'a time without a zone is ambiguous; nothing was changed' },
    );
  }
  const m = ISO_WITH_OFFSET.exec(text);
  const problem = m ? calendarProblem(m) : undefined;
  if (problem) {
    throw new ValidationError(
      `${option} ${echo(value)} is not a real time: ${problem}, e.g. ${example}`,
      option,
      {
        hint: 'fix the time and run again; nothing was changed',
      },
    );
  }
  const date = new Date(text);
  if (!m || Number.isNaN(date.getTime())) {
    throw new ValidationError(
      `${option} ${echo(value)} is not an ISO 8601 time with a zone, e.g. ${example}`,
      option,
      {
        hint: 'fix the time and run again; nothing was changed',
      },
    );
  }
  return date;
}

/** `12,15,20-30`: whole positive numbers and inclusive ranges, comma-separated. */
export function parseIds(value: string): string[] {
  const example = '--ids=1042,1043,2000-2010';
  const refuse = (why: string) =>
    new ValidationError(`--ids ${echo(value)} ${why}, e.g. ${example}`, '--ids', {
      hint: 'entry ids are whole numbers; nothing was changed',
    });
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw refuse('has an empty item');
  const ids = new Set<string>();
  for (const part of parts) {
    const m = /^(\d{1,19})(?:-(\d{1,19}))?$/.exec(part);
    if (!m) throw refuse(`has ${echo(part)}, which is not an id or a range of ids`);
    const from = BigInt(m[1]!);
    const to = m[2] === undefined ? from : BigInt(m[2]);
    if (from < 1n || to > BIGINT_MAX) throw refuse(`has ${echo(part)}, outside 1 to ${BIGINT_MAX}`);
    if (to < from) throw refuse(`has the range ${echo(part)}, which ends before it starts`);
    if (to - from + 1n + BigInt(ids.size) > BigInt(MAX_IDS))
      throw refuse(`names more than ${MAX_IDS} ids; use a created-at range or a tag instead`);
    for (let id = from; id <= to; id += 1n) ids.add(id.toString());
  }
  return [...ids];
}

/** One tag, as the Knowledge Base stores it (never a pattern, never SQL). */
export function parseTag(value: string): string {
  if (!TAG_RE.test(value)) {
    throw new ValidationError(
      `--tag ${echo(value)} is not a tag: tags are 1-100 letters, digits and . _ : / - starting with a letter or digit (no spaces, quotes or wildcards), e.g. --tag=topic-3`,
      '--tag',
      { hint: 'give the tag exactly as stored; nothing was changed' },
    );
  }
  return value;
}

export interface SelectionFlags {
  readonly ids?: string;
  readonly tag?: string;
  readonly createdAfter?: string;
  readonly createdBefore?: string;
}

/** Parse the selection flags; every problem is a ValidationError before anything is touched. */
export function parseSelection(flags: SelectionFlags): Selection {
  const createdFrom =
    flags.createdAfter === undefined ? undefined : parseZonedTime(flags.createdAfter, '--created-after');
  const createdBefore =
    flags.createdBefore === undefined ? undefined : parseZonedTime(flags.createdBefore, '--created-before');
  if (createdFrom && createdBefore && createdFrom >= createdBefore) {
    throw new ValidationError(
      `--created-after ${createdFrom.toISOString()} is not before --created-before ${createdBefore.toISOString()}: the range is empty`,
      '--created-after',
      { hint: 'swap or fix the times; nothing was changed' },
    );
  }
  return {
    ...(flags.ids === undefined ? {} : { ids: parseIds(flags.ids) }),
    ...(flags.tag === undefined ? {} : { tag: parseTag(flags.tag) }),
    ...(createdFrom ? { createdFrom } : {}),
    ...(createdBefore ? { createdBefore } : {}),
  };
}

/** The selection in words, for reports. */
export function describeSelection(s: Selection): string {
  const parts: string[] = [];
  if (s.ids) parts.push(`${s.ids.length} id(s)`);
  if (s.tag !== undefined) parts.push(`tag ${s.tag}`);
  if (s.createdFrom) parts.push(`created at or after ${s.createdFrom.toISOString()}`);
  if (s.createdBefore) parts.push(`created before ${s.createdBefore.toISOString()}`);
  return parts.length > 0 ? parts.join(', ') : 'all entries';
}

/**
 * The WHERE condition for `alias` with its parameters numbered from `firstParam`: only fixed
 * column names and placeholders, the values go in `params`.
 */
export function selectionWhere(
  s: Selection,
  alias: string,
  firstParam = 1,
): { readonly sql: string; readonly params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const next = (value: unknown) => {
    params.push(value);
    return `$${firstParam + params.length - 1}`;
  };
  if (s.ids) conditions.push(`${alias}.id = ANY(${next(s.ids)}::bigint[])`);
  if (s.tag !== undefined) conditions.push(`${next(s.tag)}::text = ANY(${alias}.tags)`);
  if (s.createdFrom)
    conditions.push(`${alias}.created_at >= ${next(s.createdFrom.toISOString())}::timestamptz`);
  if (s.createdBefore)
    conditions.push(`${alias}.created_at < ${next(s.createdBefore.toISOString())}::timestamptz`);
  return { sql: conditions.length > 0 ? conditions.join(' AND ') : 'true', params };
}

/** Columns a selection needs in knowledge_entries. */
export function selectionColumns(s: Selection): string[] {
  return [
    ...(s.ids ? ['id'] : []),
    ...(s.tag !== undefined ? ['tags'] : []),
    ...(s.createdFrom || s.createdBefore ? ['created_at'] : []),
  ];
}
