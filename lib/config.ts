/**
 * kb-dr configuration: one typed, validated object built from cdk.json context (`kb:*` keys),
 * each setting overridable by an environment variable. Invalid values fail synth with a sentence
 * naming the setting and an example of a valid value.
 */
import { ConfigurationError } from '../core/errors';
import { DEFAULT_FUNCTION_PREFIX } from '../core/functions';
import {
  DEFAULT_RESTORE_PREFIX,
  isValidRestorePrefix,
  RESTORE_PREFIX_RULE,
  isValidRetentionDays,
  RETENTION_DAYS,
  RETENTION_DAYS_RULE,
} from '../core/limits';
import { ALARM_THRESHOLDS } from '../core/metrics-catalog';
import { isValidDbInstanceId, normaliseInstanceId } from '../core/naming';
import { isInstanceClass, isValidStuckHours, RESTORE_TEST_DEFAULTS } from '../lambda/restore-test/config';

export interface KbDrConfig {
  /** RDS instance the backups protect. */
  readonly dbInstanceId: string;
  /** Days exports and kb-dr manual snapshots are kept. @default 30 */
  readonly backupRetentionDays: number;
  /** Nightly schedule as a 5-field cron (minute hour day-of-month month day-of-week). @default '0 2 * * *' */
  readonly backupSchedule: string;
  /** The same schedule as an EventBridge Scheduler expression, `cron(m h dom mon dow year)`. */
  readonly scheduleExpression: string;
  /** IANA time zone the schedule runs in. @default 'UTC' */
  readonly backupTimezone: string;
  /** E-mail addresses subscribed to the on-call topic. @default [] */
  readonly alarmEmails: readonly string[];
  /** Instance ids no restore may target. @default [dbInstanceId] */
  readonly productionInstanceIds: readonly string[];
  /** Prefix every restored instance id must carry. @default 'kb-restore-' */
  readonly restoreInstancePrefix: string;
  /** Every function is named `<prefix>-<function>`; the CLI finds them by it. @default 'kb-dr' */
  readonly functionNamePrefix: string;
  /** Weekly validation of the latest backup, 5-field cron in the backup time zone. @default '0 6 * * 1' */
  readonly validationSchedule: string;
  /** The same as an EventBridge Scheduler expression. */
  readonly validationScheduleExpression: string;
  /** Provision the docs/events examples as shareable Lambda console test events. @default true */
  readonly shareableTestEvents: boolean;
  /**
   * KB-EntryCountDrop fires when a backup holds more than this fraction fewer knowledge entries
   * than the previous successful backup; between 0 and 1, exclusive. @default 0.2
   */
  readonly entryCountDropFraction: number;
  /** Restore test schedule, 5-field cron in the backup time zone, or `off`. @default '0 4 * * 3' (Wednesdays 04:00) */
  readonly restoreTestSchedule: string;
  /** The same as an EventBridge Scheduler expression; undefined when the schedule is off. */
  readonly restoreTestScheduleExpression: string | undefined;
  /** KB-RestoreTestOverdue: no successful restore test in this many days. @default 8 */
  readonly restoreTestMaxDaysWithoutSuccess: number;
  /** Instance class of the test instance. @default 'db.t4g.medium' */
  readonly restoreTestInstanceClass: string;
  /** A test not verified this many hours after its request fails (its instance is deleted). @default 6 */
  readonly restoreTestStuckHours: number;
  /** Start a test while another test or an on-call restore of the same backup runs. @default false */
  readonly restoreTestAllowConcurrent: boolean;
  /**
   * Where verify-restore runs and how it logs in to a restored instance. Undefined when the VPC
   * settings are absent: the function is then deployed outside any VPC and records NOT_CONFIGURED
   * for every restore (never PASS). @default undefined
   */
  readonly verification?: VerificationConfig;
}

/** verify-restore's network and login (all three network settings together, or none). */
export interface VerificationConfig {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** The function's security group; the database's must allow inbound 5432 from it. */
  readonly securityGroupId: string;
  /** `iam` (default): an IAM token for `dbUser`; `secret`: the login in `secretArn`. */
  readonly auth: 'iam' | 'secret';
  /** Read-only login role. @default 'kb_verify' */
  readonly dbUser: string;
  readonly secretArn?: string;
  /** Database holding the Knowledge Base. @default 'knowledge_base' */
  readonly database: string;
}

/** One setting: its cdk.json context key and environment variable. */
interface Setting {
  readonly context: string;
  readonly env: string;
  readonly example: string;
}

export const SETTINGS = {
  dbInstanceId: { context: 'kb:dbInstanceId', env: 'KB_DB_INSTANCE_ID', example: 'kb-prod' },
  backupRetentionDays: { context: 'kb:backupRetentionDays', env: 'KB_BACKUP_RETENTION_DAYS', example: '30' },
  backupSchedule: { context: 'kb:backupSchedule', env: 'KB_BACKUP_SCHEDULE', example: '0 2 * * *' },
  backupTimezone: { context: 'kb:backupTimezone', env: 'KB_BACKUP_TIMEZONE', example: 'Europe/London' },
  alarmEmails: {
    context: 'kb:alarmEmails',
    env: 'KB_ALARM_EMAILS',
    example: 'oncall@example.com,dba@example.com',
  },
  productionInstanceIds: {
    context: 'kb:productionInstanceIds',
    env: 'KB_PRODUCTION_INSTANCE_IDS',
    example: 'kb-prod,kb-prod-replica',
  },
  restoreInstancePrefix: {
    context: 'kb:restoreInstancePrefix',
    env: 'KB_RESTORE_INSTANCE_PREFIX',
    example: 'kb-restore-',
  },
  functionNamePrefix: { context: 'kb:functionNamePrefix', env: 'KB_FUNCTION_PREFIX', example: 'kb-dr' },
  validationSchedule: {
    context: 'kb:validationSchedule',
    env: 'KB_VALIDATION_SCHEDULE',
    example: '0 6 * * 1',
  },
  shareableTestEvents: {
    context: 'kb:shareableTestEvents',
    env: 'KB_SHAREABLE_TEST_EVENTS',
    example: 'true',
  },
  entryCountDropFraction: {
    context: 'kb:entryCountDropFraction',
    env: 'KB_ENTRY_COUNT_DROP_FRACTION',
    example: '0.2',
  },
  restoreTestSchedule: {
    context: 'kb:restoreTestSchedule',
    env: 'KB_RESTORE_TEST_SCHEDULE',
    example: '0 4 * * 3',
  },
  restoreTestMaxDaysWithoutSuccess: {
    context: 'kb:restoreTestMaxDaysWithoutSuccess',
    env: 'KB_RESTORE_TEST_MAX_DAYS',
    example: '8',
  },
  restoreTestInstanceClass: {
    context: 'kb:restoreTestInstanceClass',
    env: 'KB_RESTORE_TEST_INSTANCE_CLASS',
    example: 'db.t4g.medium',
  },
  restoreTestStuckHours: {
    context: 'kb:restoreTestStuckHours',
    env: 'KB_RESTORE_TEST_STUCK_HOURS',
    example: '6',
  },
  restoreTestAllowConcurrent: {
    context: 'kb:restoreTestAllowConcurrent',
    env: 'KB_RESTORE_TEST_ALLOW_CONCURRENT',
    example: 'false',
  },
  verifyVpcId: { context: 'kb:verifyVpcId', env: 'KB_VERIFY_VPC_ID', example: 'vpc-0a1b2c3d4e5f67890' },
  verifySubnetIds: {
    context: 'kb:verifySubnetIds',
    env: 'KB_VERIFY_SUBNET_IDS',
    example: 'subnet-0a1b2c3d4e5f67890,subnet-0f9e8d7c6b5a43210',
  },
  verifySecurityGroupId: {
    context: 'kb:verifySecurityGroupId',
    env: 'KB_VERIFY_SECURITY_GROUP_ID',
    example: 'sg-0a1b2c3d4e5f67890',
  },
  verifyAuth: { context: 'kb:verifyAuth', env: 'KB_VERIFY_AUTH', example: 'iam' },
  verifyDbUser: { context: 'kb:verifyDbUser', env: 'KB_VERIFY_DB_USER', example: 'kb_verify' },
  verifySecretArn: {
    context: 'kb:verifySecretArn',
    env: 'KB_VERIFY_SECRET_ARN',
    example: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kb-verify-AbCdEf',
  },
  verifyDatabase: { context: 'kb:verifyDatabase', env: 'KB_VERIFY_DATABASE', example: 'knowledge_base' },
} as const satisfies Record<string, Setting>;

export const DEFAULTS = {
  backupRetentionDays: RETENTION_DAYS.default,
  backupSchedule: '0 2 * * *',
  backupTimezone: 'UTC',
  restoreInstancePrefix: DEFAULT_RESTORE_PREFIX,
  functionNamePrefix: DEFAULT_FUNCTION_PREFIX,
  validationSchedule: '0 6 * * 1',
  shareableTestEvents: true,
  entryCountDropFraction: ALARM_THRESHOLDS.maxEntryCountDropFraction,
  restoreTestSchedule: '0 4 * * 3',
  restoreTestMaxDaysWithoutSuccess: 8,
  restoreTestInstanceClass: RESTORE_TEST_DEFAULTS.instanceClass,
  restoreTestStuckHours: RESTORE_TEST_DEFAULTS.stuckHours,
  restoreTestAllowConcurrent: RESTORE_TEST_DEFAULTS.allowConcurrent,
  verifyAuth: 'iam',
  verifyDbUser: 'kb_verify',
  verifyDatabase: 'knowledge_base',
} as const;

/** The value of `restoreTestSchedule` that turns the weekly restore test off. */
export const RESTORE_TEST_OFF = 'off';

/** Reads a context value (e.g. `app.node.tryGetContext`). */
export type ContextReader = (key: string) => unknown;

function invalid(setting: Setting, value: unknown, why: string): ConfigurationError {
  // The example is part of the message itself: synth prints `message`, and so does any caller.
  return new ConfigurationError(
    `${setting.env} (context ${setting.context}) = ${JSON.stringify(value)} ${why}; ` +
      `set a valid value, e.g. ${setting.env}=${JSON.stringify(setting.example)} or -c ${setting.context}=${setting.example}`,
  );
}

function raw(setting: Setting, ctx: ContextReader, env: NodeJS.ProcessEnv): unknown {
  const fromEnv = env[setting.env];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
  return ctx(setting.context);
}

function asString(setting: Setting, value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  throw invalid(setting, value, 'must be a string');
}

function asList(setting: Setting, value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value.map((v) => asString(setting, v) ?? '').filter(Boolean);
  const s = asString(setting, value) ?? '';
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

const EMAIL_RE = /^[^\s@,;<>]+@[^\s@,;<>]+\.[a-zA-Z]{2,}$/;

/**
 * Cron field grammar: `*`, numbers, names, ranges `a-b`, steps `/n`, and lists `a,b`.
 * Ranges are checked per field; names are three-letter English abbreviations.
 */
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS },
];

function checkCronField(field: string, spec: FieldSpec): string | undefined {
  for (const part of field.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) return `${spec.name} field "${field}" is not a number, range, list or step`;
    const [, base = '', step] = m;
    if (step !== undefined && Number(step) < 1) return `${spec.name} step must be at least 1`;
    if (base === '*') continue;
    for (const token of base.split('-')) {
      const upper = token.toUpperCase();
      const n = /^\d+$/.test(token) ? Number(token) : (spec.names?.indexOf(upper) ?? -1);
      const value = /^\d+$/.test(token) ? n : spec.names === MONTHS ? n + 1 : n;
      if (!/^\d+$/.test(token) && n < 0) return `${spec.name} value "${token}" is not recognised`;
      if (value < spec.min || value > spec.max) {
        return `${spec.name} value ${token} is outside ${spec.min}-${spec.max}`;
      }
    }
  }
  return undefined;
}

/** Standard cron day-of-week (0 or 7 = Sunday) to EventBridge's (1 = Sunday). */
function toEventBridgeDayOfWeek(field: string): string {
  return field.replace(/\d+/g, (d) => String((Number(d) % 7) + 1));
}

/**
 * Validate a 5-field cron and return the EventBridge Scheduler expression, or throw with the
 * reason. EventBridge needs `?` in one of day-of-month/day-of-week, so both cannot be restricted.
 */
export function toScheduleExpression(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5)
    throw new Error(`has ${fields.length} fields; a cron needs 5 (minute hour day month weekday)`);
  fields.forEach((f, i) => {
    const problem = checkCronField(f, FIELDS[i] as FieldSpec);
    if (problem) throw new Error(problem);
  });
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (dom !== '*' && dow !== '*') {
    throw new Error('restricts both day-of-month and day-of-week, which EventBridge cannot schedule');
  }
  const ebDom = dow !== '*' ? '?' : dom;
  const ebDow = dow !== '*' ? toEventBridgeDayOfWeek(dow) : '?';
  return `cron(${minute} ${hour} ${ebDom} ${month} ${ebDow} *)`;
}

function asBoolean(setting: Setting, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalid(setting, value, 'must be true or false');
}

function cronSetting(setting: Setting, cron: string): string {
  try {
    return toScheduleExpression(cron);
  } catch (e) {
    throw invalid(setting, cron, `is not a valid 5-field cron: ${(e as Error).message}`);
  }
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Build and validate the configuration. Throws ConfigurationError on the first invalid setting. */
export function loadConfig(ctx: ContextReader, env: NodeJS.ProcessEnv = process.env): KbDrConfig {
  const s = SETTINGS;

  const givenInstanceId = asString(s.dbInstanceId, raw(s.dbInstanceId, ctx, env));
  if (!givenInstanceId) {
    throw new ConfigurationError(
      `the RDS instance to protect is not set; set ${s.dbInstanceId.env}=kb-prod or pass -c ${s.dbInstanceId.context}=kb-prod to cdk`,
    );
  }
  if (!isValidDbInstanceId(givenInstanceId)) {
    throw invalid(
      s.dbInstanceId,
      givenInstanceId,
      'is not an identifier RDS accepts (1-63 letters, digits and single hyphens, starting with a letter)',
    );
  }
  // RDS identifiers are case-insensitive and stored lower case: `KB-Prod` names the instance
  // RDS reports as `kb-prod`. Lower-casing here (rather than refusing) keeps every comparison,
  // the functions' environment, the IAM ARNs and the alarms' metric dimension on the id RDS uses.
  const dbInstanceId = normaliseInstanceId(givenInstanceId);

  const retentionRaw = raw(s.backupRetentionDays, ctx, env) ?? DEFAULTS.backupRetentionDays;
  const backupRetentionDays =
    typeof retentionRaw === 'number' ? retentionRaw : Number(asString(s.backupRetentionDays, retentionRaw));
  if (!isValidRetentionDays(backupRetentionDays)) {
    throw invalid(s.backupRetentionDays, retentionRaw, `must be ${RETENTION_DAYS_RULE}`);
  }

  const backupSchedule =
    asString(s.backupSchedule, raw(s.backupSchedule, ctx, env)) ?? DEFAULTS.backupSchedule;
  const scheduleExpression = cronSetting(s.backupSchedule, backupSchedule);
  const validationSchedule =
    asString(s.validationSchedule, raw(s.validationSchedule, ctx, env)) ?? DEFAULTS.validationSchedule;
  const validationScheduleExpression = cronSetting(s.validationSchedule, validationSchedule);

  const backupTimezone =
    asString(s.backupTimezone, raw(s.backupTimezone, ctx, env)) ?? DEFAULTS.backupTimezone;
  if (!isValidTimeZone(backupTimezone)) {
    throw invalid(s.backupTimezone, backupTimezone, 'is not an IANA time zone');
  }

  const alarmEmails = asList(s.alarmEmails, raw(s.alarmEmails, ctx, env));
  for (const email of alarmEmails) {
    if (!EMAIL_RE.test(email)) throw invalid(s.alarmEmails, email, 'is not an e-mail address');
  }

  const restoreInstancePrefix =
    asString(s.restoreInstancePrefix, raw(s.restoreInstancePrefix, ctx, env)) ??
    DEFAULTS.restoreInstancePrefix;
  if (!isValidRestorePrefix(restoreInstancePrefix)) {
    throw invalid(s.restoreInstancePrefix, restoreInstancePrefix, `must be ${RESTORE_PREFIX_RULE}`);
  }

  const listed = asList(s.productionInstanceIds, raw(s.productionInstanceIds, ctx, env)).map(
    normaliseInstanceId,
  );
  for (const id of listed) {
    if (!isValidDbInstanceId(id))
      throw invalid(s.productionInstanceIds, id, 'is not an RDS instance identifier');
  }
  const productionInstanceIds = [...new Set([dbInstanceId, ...listed])];
  for (const id of productionInstanceIds) {
    if (id.toLowerCase().startsWith(restoreInstancePrefix.toLowerCase())) {
      throw invalid(
        s.restoreInstancePrefix,
        restoreInstancePrefix,
        `would let a restore target the production instance ${id}; choose a prefix no production id starts with`,
      );
    }
  }

  // Function names are `<prefix>-promote-restore` at the longest; Lambda allows 64 characters.
  const functionNamePrefix =
    asString(s.functionNamePrefix, raw(s.functionNamePrefix, ctx, env)) ?? DEFAULTS.functionNamePrefix;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,40}$/.test(functionNamePrefix)) {
    throw invalid(
      s.functionNamePrefix,
      functionNamePrefix,
      'must be 1-41 letters, digits and hyphens starting with a letter',
    );
  }
  const shareableTestEvents = asBoolean(
    s.shareableTestEvents,
    raw(s.shareableTestEvents, ctx, env),
    DEFAULTS.shareableTestEvents,
  );

  const dropRaw = raw(s.entryCountDropFraction, ctx, env) ?? DEFAULTS.entryCountDropFraction;
  const entryCountDropFraction =
    typeof dropRaw === 'number' ? dropRaw : Number(asString(s.entryCountDropFraction, dropRaw));
  if (!(
    Number.isFinite(entryCountDropFraction) &&
    entryCountDropFraction > 0 &&
    entryCountDropFraction < 1
  )) {
    throw invalid(
      s.entryCountDropFraction,
      dropRaw,
      'must be a fraction between 0 and 1, exclusive (0.2 = alarm when a backup holds more than 20% fewer entries than the previous one)',
    );
  }
  const restoreTest = loadRestoreTestSettings(ctx, env);
  const verification = loadVerificationConfig(ctx, env);

  return {
    ...restoreTest,
    dbInstanceId,
    backupRetentionDays,
    backupSchedule,
    scheduleExpression,
    backupTimezone,
    alarmEmails,
    productionInstanceIds,
    restoreInstancePrefix,
    functionNamePrefix,
    validationSchedule,
    validationScheduleExpression,
    shareableTestEvents,
    entryCountDropFraction,
    ...(verification ? { verification } : {}),
  };
}

function asNumber(setting: Setting, value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'number') return value;
  const text = asString(setting, value) ?? '';
  return text === '' ? Number.NaN : Number(text);
}

/** The weekly restore test's settings (schedule or `off`, alarm age, test instance, limits). */
function loadRestoreTestSettings(
  ctx: ContextReader,
  env: NodeJS.ProcessEnv,
): Pick<
  KbDrConfig,
  | 'restoreTestSchedule'
  | 'restoreTestScheduleExpression'
  | 'restoreTestMaxDaysWithoutSuccess'
  | 'restoreTestInstanceClass'
  | 'restoreTestStuckHours'
  | 'restoreTestAllowConcurrent'
> {
  const s = SETTINGS;
  const restoreTestSchedule =
    asString(s.restoreTestSchedule, raw(s.restoreTestSchedule, ctx, env)) ?? DEFAULTS.restoreTestSchedule;
  const off = restoreTestSchedule.toLowerCase() === RESTORE_TEST_OFF;
  const restoreTestScheduleExpression = off
    ? undefined
    : cronSetting(s.restoreTestSchedule, restoreTestSchedule);
  const maxRaw = raw(s.restoreTestMaxDaysWithoutSuccess, ctx, env);
  const restoreTestMaxDaysWithoutSuccess = asNumber(
    s.restoreTestMaxDaysWithoutSuccess,
    maxRaw,
    DEFAULTS.restoreTestMaxDaysWithoutSuccess,
  );
  if (
    !Number.isInteger(restoreTestMaxDaysWithoutSuccess) ||
    restoreTestMaxDaysWithoutSuccess < 2 ||
    restoreTestMaxDaysWithoutSuccess > 60
  ) {
    throw invalid(
      s.restoreTestMaxDaysWithoutSuccess,
      maxRaw,
      'must be a whole number of days from 2 to 60, longer than the time between two scheduled tests',
    );
  }
  const restoreTestInstanceClass =
    asString(s.restoreTestInstanceClass, raw(s.restoreTestInstanceClass, ctx, env)) ??
    DEFAULTS.restoreTestInstanceClass;
  if (!isInstanceClass(restoreTestInstanceClass)) {
    throw invalid(
      s.restoreTestInstanceClass,
      restoreTestInstanceClass,
      'is not an RDS instance class (db.<family>.<size>)',
    );
  }
  const stuckRaw = raw(s.restoreTestStuckHours, ctx, env);
  const restoreTestStuckHours = asNumber(s.restoreTestStuckHours, stuckRaw, DEFAULTS.restoreTestStuckHours);
  if (!isValidStuckHours(restoreTestStuckHours)) {
    throw invalid(s.restoreTestStuckHours, stuckRaw, 'must be a number of hours from 1 to 48');
  }
  if (restoreTestStuckHours >= restoreTestMaxDaysWithoutSuccess * 24) {
    throw invalid(
      s.restoreTestStuckHours,
      stuckRaw,
      `must be shorter than restoreTestMaxDaysWithoutSuccess (${restoreTestMaxDaysWithoutSuccess} days)`,
    );
  }
  const restoreTestAllowConcurrent = asBoolean(
    s.restoreTestAllowConcurrent,
    raw(s.restoreTestAllowConcurrent, ctx, env),
    DEFAULTS.restoreTestAllowConcurrent,
  );
  return {
    restoreTestSchedule: off ? RESTORE_TEST_OFF : restoreTestSchedule,
    restoreTestScheduleExpression,
    restoreTestMaxDaysWithoutSuccess,
    restoreTestInstanceClass,
    restoreTestStuckHours,
    restoreTestAllowConcurrent,
  };
}

/** The verify-restore settings: none of the three network settings, or all three, valid. */
function loadVerificationConfig(ctx: ContextReader, env: NodeJS.ProcessEnv): VerificationConfig | undefined {
  const s = SETTINGS;
  const vpcId = asString(s.verifyVpcId, raw(s.verifyVpcId, ctx, env));
  const subnetIds = asList(s.verifySubnetIds, raw(s.verifySubnetIds, ctx, env));
  const securityGroupId = asString(s.verifySecurityGroupId, raw(s.verifySecurityGroupId, ctx, env));
  const auth = asString(s.verifyAuth, raw(s.verifyAuth, ctx, env)) ?? DEFAULTS.verifyAuth;
  const dbUser = asString(s.verifyDbUser, raw(s.verifyDbUser, ctx, env)) ?? DEFAULTS.verifyDbUser;
  const secretArn = asString(s.verifySecretArn, raw(s.verifySecretArn, ctx, env));
  const database = asString(s.verifyDatabase, raw(s.verifyDatabase, ctx, env)) ?? DEFAULTS.verifyDatabase;
  const network = [
    [s.verifyVpcId, vpcId],
    [s.verifySubnetIds, subnetIds.length > 0 ? subnetIds : undefined],
    [s.verifySecurityGroupId, securityGroupId],
  ] as const;
  const given = network.filter(([, v]) => v !== undefined);
  if (given.length === 0) {
    if (secretArn || raw(s.verifyAuth, ctx, env) !== undefined)
      throw invalid(
        s.verifyVpcId,
        vpcId,
        `must be set (with ${s.verifySubnetIds.env} and ${s.verifySecurityGroupId.env}) when ${s.verifyAuth.env} or ${s.verifySecretArn.env} is set: verify-restore can only reach a restored instance from inside its VPC`,
      );
    return undefined;
  }
  const missing = network.find(([, v]) => v === undefined);
  if (missing)
    throw invalid(
      missing[0],
      undefined,
      `is required with ${given.map(([set]) => set.env).join(' and ')}: verify-restore needs the VPC, its subnets and its security group together (or none of them: verification then records NOT_CONFIGURED)`,
    );
  if (!/^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(vpcId ?? ''))
    throw invalid(s.verifyVpcId, vpcId, 'is not a VPC id');
  for (const id of subnetIds)
    if (!/^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(id))
      throw invalid(s.verifySubnetIds, id, 'is not a subnet id');
  if (!/^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(securityGroupId ?? ''))
    throw invalid(s.verifySecurityGroupId, securityGroupId, 'is not a security group id');
  if (auth !== 'iam' && auth !== 'secret') throw invalid(s.verifyAuth, auth, 'must be iam or secret');
  // A PostgreSQL role name kb-dr puts in an IAM resource ARN (dbuser:*/<name>): plain identifiers only.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(dbUser))
    throw invalid(s.verifyDbUser, dbUser, 'must be a lower-case PostgreSQL role name (letters, digits, _)');
  if (!/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/.test(database))
    throw invalid(s.verifyDatabase, database, 'is not a database name');
  if (auth === 'secret' && !secretArn)
    throw invalid(s.verifySecretArn, secretArn, `is required when ${s.verifyAuth.env}=secret`);
  if (
    secretArn &&
    !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/.test(secretArn)
  )
    throw invalid(s.verifySecretArn, secretArn, 'is not a Secrets Manager secret ARN');
  if (auth === 'iam' && secretArn)
    throw invalid(
      s.verifySecretArn,
      secretArn,
      `is only used with ${s.verifyAuth.env}=secret; remove it or set ${s.verifyAuth.env}=secret`,
    );
  return {
    vpcId: vpcId ?? '',
    subnetIds,
    securityGroupId: securityGroupId ?? '',
    auth,
    dbUser,
    ...(secretArn ? { secretArn } : {}),
    database,
  };
}
