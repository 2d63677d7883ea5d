/**
 * The one place that turns input and errors into what the caller sees.
 *
 * Design: handlers RETURN failures as `{ ok: false, error, hint }` rather than throwing. At 3 a.m.
 * in the Lambda console a returned JSON object is read at a glance, whereas a thrown error arrives
 * as an `errorMessage` plus a stack trace. Callers that need an exit status (the operator CLI)
 * treat `ok: false` as failure and exit non-zero (`exitCodeFor`). Only a broken deployment (a
 * missing environment variable at cold start) still surfaces as a Lambda function error.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import type { $ZodIssue } from 'zod/v4/core';
import '../../core/zod-english';
import { KbDrError, ValidationError } from '../../core/errors';
import { translateAwsError } from './aws-errors';
import { editDistance } from '../../core/edit-distance';

/** What every failed invocation returns. */
export interface FailureResponse {
  readonly ok: false;
  /** One sentence: what was wrong (naming the field and a valid example when input was wrong). */
  readonly error: string;
  /** The next step. */
  readonly hint: string;
  /** ValidationError, GuardRailError, NotFoundError, ... */
  readonly errorType: string;
  /** The event field at fault, when there is one. */
  readonly field?: string;
  /** Whether the same call later could succeed. */
  readonly retryable: boolean;
  /** Always true for input and guard-rail failures: no AWS resource was changed. */
  readonly nothingChanged?: boolean;
}

/** How an event is checked: its strict schema plus examples for messages. */
export interface EventSpec<S extends z.core.$ZodType> {
  /** Function short name, e.g. `restore-snapshot`. */
  readonly functionName: string;
  readonly schema: S;
  /** A complete valid event, quoted in hints. */
  readonly example: Readonly<Record<string, unknown>>;
  /** A valid value per field as JSON text, e.g. `{ confirm: 'true' }`. */
  readonly fieldExamples: Readonly<Record<string, string>>;
}

/**
 * How a function with several kinds of event (an RDS event, a scheduled pass, a request) reads
 * one: `read` returns the input, or throws a ValidationError naming the field (nothing ran).
 */
export interface EventReader<I> {
  /** Function short name, e.g. `verify-restore`. */
  readonly functionName: string;
  readonly read: (event: unknown) => I;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * What is wrong with a field's value, from a zod issue (classic or mini: zod/mini carries no
 * messages of its own, only "Invalid input"), e.g. `must be a string, not number 3`.
 */
export function issueProblem(issue: $ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be a ${issue.expected}, not ${describeValue(value)}`;
    case 'invalid_value':
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, not ${describeValue(value)}`;
    case 'too_small':
      return issue.origin === 'string'
        ? `must be at least ${issue.minimum} character(s) long`
        : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${issue.maximum} characters long`
        : `must be at most ${issue.maximum}`;
    default:
      return `is invalid: ${issue.message}`;
  }
}

/** The known field closest to a misspelled one, if any is close. */
export function closestField(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** A ValidationError for `field` whose message ends with a valid example of it. */
export function fieldError<S extends z.core.$ZodType>(
  spec: EventSpec<S>,
  field: string,
  problem: string,
  hint?: string,
): ValidationError {
  const example = spec.fieldExamples[field];
  const suffix = example === undefined ? '' : `, e.g. "${field}": ${example}`;
  return new ValidationError(`${problem}${suffix}`, field, {
    hint: hint ?? `fix the event and run again; a complete valid event: ${JSON.stringify(spec.example)}`,
  });
}

/**
 * Why an event failed a strict schema, in one phrase: not an object (`got null`), a misspelled
 * field first (it also shows up as a missing one, but the misspelling is the cause), else the
 * first field's problem. For functions whose refusals carry their own wording (backup, reconcile).
 */
export function eventProblem(
  event: unknown,
  issues: readonly $ZodIssue[],
  known: readonly string[],
): { readonly problem: string; readonly field?: string } {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { problem: `the event must be a JSON object, got ${describeValue(event)}` };
  }
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (!issue) return { problem: 'the event is invalid' };
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const guess = closestField(key, known);
    return guess
      ? { problem: `unknown field "${key}" (did you mean "${guess}"?)`, field: guess }
      : { problem: `unknown field "${key}" (valid fields: ${known.join(', ')})`, field: key };
  }
  const field = String(issue.path[0] ?? '');
  const value = (event as Record<string, unknown>)[field];
  return { problem: `field "${field}" ${issueProblem(issue, value)}`, field };
}

/**
 * Validate an event against a strict schema. Throws a ValidationError whose message names the
 * first offending field and gives a valid example of it.
 */
export function parseEvent<S extends z.core.$ZodType>(spec: EventSpec<S>, event: unknown): z.infer<S> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new ValidationError(
      `the ${spec.functionName} event must be a JSON object, got ${describeValue(event)}`,
      undefined,
      { hint: `use e.g. ${JSON.stringify(spec.example)}` },
    );
  }
  const result = z.safeParse(spec.schema, event);
  if (result.success) return result.data;
  const known = Object.keys(spec.fieldExamples);
  // A misspelled field also shows up as a missing one: report the misspelling, it is the cause.
  const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0];
  if (!issue) throw fieldError(spec, '', 'the event is invalid');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const guess = closestField(key, known);
    const problem = guess
      ? `unknown field "${key}" (did you mean "${guess}"?)`
      : `unknown field "${key}" (valid fields: ${known.join(', ')})`;
    return rethrow(fieldError(spec, guess ?? '', problem));
  }
  const field = String(issue.path[0] ?? '');
  const record = event as Record<string, unknown>;
  if (!(field in record) || record[field] === undefined) {
    return rethrow(fieldError(spec, field, `field "${field}" is missing`));
  }
  return rethrow(fieldError(spec, field, `field "${field}" ${issueProblem(issue, record[field])}`));
}

function rethrow(err: Error): never {
  throw err;
}

/**
 * The refusals: errors the restore functions raise only before any mutating call (or that AWS
 * answers definitively to the one mutating call), so nothing was changed. One rule for all of them:
 * they carry `nothingChanged: true` and the CLI exits 2.
 */
const REFUSALS = new Set(['ValidationError', 'GuardRailError', 'NotFoundError', 'AlreadyExistsError']);

/** True when the error is a refusal, or says itself that nothing was changed. */
export function isRefusal(e: KbDrError): boolean {
  return REFUSALS.has(e.name) || (e as { nothingChanged?: unknown }).nothingChanged === true;
}

/** Map any error to the caller-facing failure. Unknown errors are translated, never passed raw. */
export function toFailure(err: unknown, operation = 'the request'): FailureResponse {
  const e = err instanceof KbDrError ? err : translateAwsError(err, { operation });
  const refused = isRefusal(e);
  return {
    ok: false,
    error: e.message,
    hint: e.hint ?? 'check the function logs in /aws/knowledgebase/restore and retry',
    errorType: e.name,
    ...(e instanceof ValidationError && e.field ? { field: e.field } : {}),
    retryable: e.retryable,
    ...(refused ? { nothingChanged: true } : {}),
  };
}

/** Run a handler body; failures are logged and returned as a FailureResponse. */
export async function respond<T>(
  logger: Pick<Logger, 'warn' | 'error'>,
  functionName: string,
  body: () => Promise<T>,
): Promise<T | FailureResponse> {
  try {
    return await body();
  } catch (err) {
    const failure = toFailure(err, functionName);
    if (err instanceof KbDrError) logger.warn(`${functionName} refused or failed`, { failure });
    else logger.error(`${functionName} failed unexpectedly`, { failure, error: err as Error });
    return failure;
  }
}

/** True when a response is a failure (for callers such as the CLI). */
export function isFailure(res: unknown): res is FailureResponse {
  return typeof res === 'object' && res !== null && (res as { ok?: unknown }).ok === false;
}

/**
 * Exit status for a CLI: 0 success, 2 refused (nothing changed), 1 any other failure. A refusal's
 * errorType counts even without `nothingChanged` (an answer from a function deployed before every
 * refusal carried it).
 */
export function exitCodeFor(res: unknown): number {
  if (!isFailure(res)) return 0;
  return res.nothingChanged === true || REFUSALS.has(res.errorType) ? 2 : 1;
}
