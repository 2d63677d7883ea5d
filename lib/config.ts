/**
 * kb-dr configuration: one typed, validated object built from cdk.json context (`kb:*` keys),
 * each setting overridable by an environment variable. SETTINGS holds one row per setting (where
 * it is read, an example, its default, its parser and its line in the README); CHECKS holds the
 * rules that tie settings together. Invalid values fail synth with a sentence naming the setting
 * and an example of a valid value.
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
import { cronProblem, toScheduleExpression } from './cron';
import { editDistance } from '../core/edit-distance';

export { toScheduleExpression } from './cron';

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

/** Refuses the value being parsed: `why` follows the setting's name and the value (or `shown`). */
export type Refuse = (why: string, shown?: unknown) => never;

/** One setting: where it is read, how it is documented, and how a set value is checked. */
export interface SettingRow {
  /** cdk.json context key (`-c key=value`). */
  readonly context: `kb:${string}`;
  /** Environment variable; when set and not blank it wins over the context key. */
  readonly env: `KB_${string}`;
  /** A valid value as an operator would type it; quoted in every refusal of the setting. */
  readonly example: string;
  /** One line for the README's configuration table. */
  readonly description: string;
  /** Used when neither source sets the setting. Absent: the setting is required. */
  readonly default?: unknown;
  /** For a required setting: what is missing, e.g. "the RDS instance to protect". */
  readonly required?: string;
  /** The README's default column, when it is more than the default value itself. */
  readonly defaultDoc?: string;
  /** Turns a set value (environment text, or a cdk.json value of any JSON type) into the setting. */
  readonly parse: (value: unknown, refuse: Refuse) => unknown;
}

const EMAIL_RE = /^[^\s@,;<>]+@[^\s@,;<>]+\.[a-zA-Z]{2,}$/;
const VPC_ID_RE = /^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SUBNET_ID_RE = /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SECURITY_GROUP_ID_RE = /^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
// Function names are `<prefix>-promote-restore` at the longest; Lambda allows 64 characters.
const FUNCTION_PREFIX_RE = /^[A-Za-z][A-Za-z0-9-]{0,40}$/;
// A PostgreSQL role name kb-dr puts in an IAM resource ARN (dbuser:*/<name>): plain identifiers only.
const DB_USER_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const DATABASE_RE = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

/** The value of `restoreTestSchedule` that turns the weekly restore test off. */
export const RESTORE_TEST_OFF = 'off';

// Parsers: each takes a set value (never blank) and returns the setting or refuses it.

function text(value: unknown, refuse: Refuse): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  return refuse('must be a string');
}

function list(value: unknown, refuse: Refuse): string[] {
  if (Array.isArray(value)) {
    return value
      .map((v: unknown) =>
        v === undefined || v === null || v === '' ? '' : text(v, (why) => refuse(why, v)),
      )
      .filter(Boolean);
  }
  return text(value, refuse)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

function number(value: unknown, refuse: Refuse): number {
  return typeof value === 'number' ? value : Number(text(value, refuse));
}

function boolean(value: unknown, refuse: Refuse): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return refuse('must be true or false');
}

function cron(value: unknown, refuse: Refuse): string {
  const schedule = text(value, refuse);
  const problem = cronProblem(schedule);
  return problem ? refuse(`is not a valid 5-field cron: ${problem}`, schedule) : schedule;
}

type Rule = RegExp | ((s: string) => boolean);
const passes = (rule: Rule, s: string): boolean => (rule instanceof RegExp ? rule.test(s) : rule(s));

/** A text setting that must pass `rule`, refused with `why` otherwise. */
function matching(rule: Rule, why: string) {
  return (value: unknown, refuse: Refuse): string => {
    const s = text(value, refuse);
    return passes(rule, s) ? s : refuse(why, s);
  };
}

/** A list setting whose every item must pass `rule`; the first that does not is refused. */
function listOf(rule: Rule, why: string, normalise: (s: string) => string = (s) => s) {
  return (value: unknown, refuse: Refuse): string[] => {
    const items = list(value, refuse).map(normalise);
    const bad = items.find((s) => !passes(rule, s));
    return bad === undefined ? items : refuse(why, bad);
  };
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Every setting, in the order they are read and documented. */
export const SETTINGS = {
  dbInstanceId: {
    context: 'kb:dbInstanceId',
    env: 'KB_DB_INSTANCE_ID',
    example: 'kb-prod',
    description: 'RDS instance to protect',
    required: 'the RDS instance to protect',
    // RDS identifiers are case-insensitive and stored lower case: `KB-Prod` names the instance
    // RDS reports as `kb-prod`. Lower-casing here (rather than refusing) keeps every comparison,
    // the functions' environment, the IAM ARNs and the alarms' metric dimension on the id RDS uses.
    parse: (value, refuse) =>
      normaliseInstanceId(
        matching(
          isValidDbInstanceId,
          'is not an identifier RDS accepts (1-63 letters, digits and single hyphens, starting with a letter)',
        )(value, refuse),
      ),
  },
  backupRetentionDays: {
    context: 'kb:backupRetentionDays',
    env: 'KB_BACKUP_RETENTION_DAYS',
    example: '30',
    description: `retention of exports and manual snapshots, days (${RETENTION_DAYS.min}-${RETENTION_DAYS.max})`,
    default: RETENTION_DAYS.default,
    parse: (value, refuse) => {
      const days = number(value, refuse);
      return isValidRetentionDays(days) ? days : refuse(`must be ${RETENTION_DAYS_RULE}`);
    },
  },
  backupSchedule: {
    context: 'kb:backupSchedule',
    env: 'KB_BACKUP_SCHEDULE',
    example: '0 2 * * *',
    description: 'nightly schedule (5-field cron)',
    default: '0 2 * * *',
    parse: cron,
  },
  backupTimezone: {
    context: 'kb:backupTimezone',
    env: 'KB_BACKUP_TIMEZONE',
    example: 'Europe/London',
    description: 'time zone of the schedules (IANA)',
    default: 'UTC',
    parse: matching(isValidTimeZone, 'is not an IANA time zone'),
  },
  alarmEmails: {
    context: 'kb:alarmEmails',
    env: 'KB_ALARM_EMAILS',
    example: 'oncall@example.com,dba@example.com',
    description: 'alarm e-mail recipients (comma-separated)',
    default: [] as readonly string[],
    parse: listOf(EMAIL_RE, 'is not an e-mail address'),
  },
  productionInstanceIds: {
    context: 'kb:productionInstanceIds',
    env: 'KB_PRODUCTION_INSTANCE_IDS',
    example: 'kb-prod,kb-prod-replica',
    description: 'instance ids that count as production (restore guard)',
    default: [] as readonly string[],
    defaultDoc: 'the protected instance',
    parse: listOf(isValidDbInstanceId, 'is not an RDS instance identifier', normaliseInstanceId),
  },
  restoreInstancePrefix: {
    context: 'kb:restoreInstancePrefix',
    env: 'KB_RESTORE_INSTANCE_PREFIX',
    example: 'kb-restore-',
    description: 'prefix every restored instance must carry',
    default: DEFAULT_RESTORE_PREFIX,
    parse: matching(isValidRestorePrefix, `must be ${RESTORE_PREFIX_RULE}`),
  },
  functionNamePrefix: {
    context: 'kb:functionNamePrefix',
    env: 'KB_FUNCTION_PREFIX',
    example: 'kb-dr',
    description:
      "prefix of every function's name, `<prefix>-restore-snapshot` … (1-41 letters, digits, hyphens); the CLI reads the same variable",
    default: DEFAULT_FUNCTION_PREFIX,
    parse: matching(FUNCTION_PREFIX_RE, 'must be 1-41 letters, digits and hyphens starting with a letter'),
  },
  validationSchedule: {
    context: 'kb:validationSchedule',
    env: 'KB_VALIDATION_SCHEDULE',
    example: '0 6 * * 1',
    description: "weekly validation of the latest backup (5-field cron, in the schedules' time zone)",
    default: '0 6 * * 1',
    defaultDoc: '`0 6 * * 1` (Mondays 06:00)',
    parse: cron,
  },
  shareableTestEvents: {
    context: 'kb:shareableTestEvents',
    env: 'KB_SHAREABLE_TEST_EVENTS',
    example: 'true',
    description: 'publish `docs/events/*.json` as shareable console test events (`true`/`false`)',
    default: true,
    parse: boolean,
  },
  entryCountDropFraction: {
    context: 'kb:entryCountDropFraction',
    env: 'KB_ENTRY_COUNT_DROP_FRACTION',
    example: '0.2',
    description:
      'KB-EntryCountDrop: alarm when a backup holds more than this fraction fewer knowledge entries than the previous successful backup (0 < x < 1)',
    default: ALARM_THRESHOLDS.maxEntryCountDropFraction,
    parse: (value, refuse) => {
      const fraction = number(value, refuse);
      return Number.isFinite(fraction) && fraction > 0 && fraction < 1
        ? fraction
        : refuse(
            'must be a fraction between 0 and 1, exclusive (0.2 = alarm when a backup holds more than 20% fewer entries than the previous one)',
          );
    },
  },
  restoreTestSchedule: {
    context: 'kb:restoreTestSchedule',
    env: 'KB_RESTORE_TEST_SCHEDULE',
    example: '0 4 * * 3',
    description: "weekly restore test (5-field cron in the schedules' time zone, or `off`)",
    default: '0 4 * * 3',
    defaultDoc: '`0 4 * * 3` (Wednesdays 04:00)',
    parse: (value, refuse) => {
      const schedule = text(value, refuse);
      return schedule.toLowerCase() === RESTORE_TEST_OFF ? RESTORE_TEST_OFF : cron(schedule, refuse);
    },
  },
  restoreTestMaxDaysWithoutSuccess: {
    context: 'kb:restoreTestMaxDaysWithoutSuccess',
    env: 'KB_RESTORE_TEST_MAX_DAYS',
    example: '8',
    description:
      '`KB-RestoreTestOverdue`: no successful restore test in this many days (2-60; longer than the time between two tests)',
    default: 8,
    parse: (value, refuse) => {
      const days = number(value, refuse);
      return Number.isInteger(days) && days >= 2 && days <= 60
        ? days
        : refuse(
            'must be a whole number of days from 2 to 60, longer than the time between two scheduled tests',
          );
    },
  },
  restoreTestInstanceClass: {
    context: 'kb:restoreTestInstanceClass',
    env: 'KB_RESTORE_TEST_INSTANCE_CLASS',
    example: 'db.t4g.medium',
    description: 'instance class of the restore-test instance (`db.<family>.<size>`)',
    default: RESTORE_TEST_DEFAULTS.instanceClass,
    parse: matching(isInstanceClass, 'is not an RDS instance class (db.<family>.<size>)'),
  },
  restoreTestStuckHours: {
    context: 'kb:restoreTestStuckHours',
    env: 'KB_RESTORE_TEST_STUCK_HOURS',
    example: '6',
    description:
      'a restore test not verified this many hours after its request fails, and its instance is deleted (1-48)',
    default: RESTORE_TEST_DEFAULTS.stuckHours,
    parse: (value, refuse) => {
      const hours = number(value, refuse);
      return isValidStuckHours(hours) ? hours : refuse('must be a number of hours from 1 to 48');
    },
  },
  restoreTestAllowConcurrent: {
    context: 'kb:restoreTestAllowConcurrent',
    env: 'KB_RESTORE_TEST_ALLOW_CONCURRENT',
    example: 'false',
    description:
      'start a restore test while another one, or an on-call restore of the same backup, is running (`true`/`false`)',
    default: RESTORE_TEST_DEFAULTS.allowConcurrent,
    parse: boolean,
  },
  verifyVpcId: {
    context: 'kb:verifyVpcId',
    env: 'KB_VERIFY_VPC_ID',
    example: 'vpc-0a1b2c3d4e5f67890',
    description:
      'VPC verify-restore runs in (with the next two; none of the three: verification is NOT_CONFIGURED)',
    default: undefined,
    parse: matching(VPC_ID_RE, 'is not a VPC id'),
  },
  verifySubnetIds: {
    context: 'kb:verifySubnetIds',
    env: 'KB_VERIFY_SUBNET_IDS',
    example: 'subnet-0a1b2c3d4e5f67890,subnet-0f9e8d7c6b5a43210',
    description: 'subnets of verify-restore (comma-separated, private, with a route to the RDS and S3 APIs)',
    default: [] as readonly string[],
    parse: listOf(SUBNET_ID_RE, 'is not a subnet id'),
  },
  verifySecurityGroupId: {
    context: 'kb:verifySecurityGroupId',
    env: 'KB_VERIFY_SECURITY_GROUP_ID',
    example: 'sg-0a1b2c3d4e5f67890',
    description: "security group of verify-restore (the database's must allow inbound 5432 from it)",
    default: undefined,
    parse: matching(SECURITY_GROUP_ID_RE, 'is not a security group id'),
  },
  verifyAuth: {
    context: 'kb:verifyAuth',
    env: 'KB_VERIFY_AUTH',
    example: 'iam',
    description: 'how verify-restore logs in: `iam` (token for the read-only role) or `secret`',
    default: 'iam',
    parse: (value, refuse): 'iam' | 'secret' => {
      const auth = text(value, refuse);
      return auth === 'iam' || auth === 'secret' ? auth : refuse('must be iam or secret', auth);
    },
  },
  verifyDbUser: {
    context: 'kb:verifyDbUser',
    env: 'KB_VERIFY_DB_USER',
    example: 'kb_verify',
    description: 'the read-only login role (IAM auth)',
    default: 'kb_verify',
    parse: matching(DB_USER_RE, 'must be a lower-case PostgreSQL role name (letters, digits, _)'),
  },
  verifySecretArn: {
    context: 'kb:verifySecretArn',
    env: 'KB_VERIFY_SECRET_ARN',
    example: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kb-verify-AbCdEf',
    description: 'the login secret, `{"username","password"}` (with `secret` only)',
    default: undefined,
    parse: matching(SECRET_ARN_RE, 'is not a Secrets Manager secret ARN'),
  },
  verifyDatabase: {
    context: 'kb:verifyDatabase',
    env: 'KB_VERIFY_DATABASE',
    example: 'knowledge_base',
    description: 'database holding the Knowledge Base',
    default: 'knowledge_base',
    parse: matching(DATABASE_RE, 'is not a database name'),
  },
} as const satisfies Record<string, SettingRow>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<R> = R extends { readonly parse: (...args: never[]) => infer T }
  ? R extends { readonly default: infer D }
    ? T | D
    : T
  : never;

/** Every setting's value once read: the parsed value, or its default when not set. */
export type SettingValues = { readonly [K in SettingName]: ValueOf<(typeof SETTINGS)[K]> };

type DefaultOf<R> = R extends { readonly default: infer D } ? D : undefined;
type DefaultsOf<S> = {
  readonly [K in keyof S as DefaultOf<S[K]> extends undefined ? never : K]: DefaultOf<S[K]>;
};

/** The default of every setting that has one (values, not text). */
export const DEFAULTS = Object.fromEntries(
  Object.entries(SETTINGS as Record<string, SettingRow>)
    .filter(([, row]) => row.default !== undefined)
    .map(([name, row]) => [name, row.default]),
) as DefaultsOf<typeof SETTINGS>;

/** Reads a context value (e.g. `app.node.tryGetContext`). */
export type ContextReader = (key: string) => unknown;

/** The refusal of `setting`'s `value`, naming the variable, the context key and a valid example. */
export function invalid(setting: SettingRow, value: unknown, why: string): ConfigurationError {
  // The example is part of the message itself: synth prints `message`, and so does any caller.
  return new ConfigurationError(
    `${setting.env} (context ${setting.context}) = ${JSON.stringify(value)} ${why}; ` +
      `set a valid value, e.g. ${setting.env}=${JSON.stringify(setting.example)} or -c ${setting.context}=${setting.example}`,
  );
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** What a source sets for `setting`: a non-blank environment variable (trimmed), else the context value. */
function given(setting: SettingRow, ctx: ContextReader, env: NodeJS.ProcessEnv): unknown {
  const fromEnv = env[setting.env];
  if (!isBlank(fromEnv)) return fromEnv?.trim();
  const fromContext = ctx(setting.context);
  return isBlank(fromContext) ? undefined : fromContext;
}

/** The settings read from their sources, and which of them were set (not defaulted). */
export interface ReadSettings {
  readonly values: SettingValues;
  readonly isSet: (name: SettingName) => boolean;
}

/** Read every row: parse what is set, default what is not, refuse a required setting left unset. */
export function readSettings(ctx: ContextReader, env: NodeJS.ProcessEnv): ReadSettings {
  const values: Record<string, unknown> = {};
  const set = new Set<string>();
  for (const [name, row] of Object.entries(SETTINGS as Record<string, SettingRow>)) {
    const value = given(row, ctx, env);
    if (value !== undefined) {
      set.add(name);
      values[name] = row.parse(value, (why, shown = value) => {
        throw invalid(row, shown, why);
      });
    } else if (row.required !== undefined) {
      throw new ConfigurationError(
        `${row.required} is not set; set ${row.env}=${row.example} or pass -c ${row.context}=${row.example} to cdk`,
      );
    } else {
      values[name] = row.default;
    }
  }
  return { values: values as SettingValues, isSet: (name) => set.has(name) };
}

/** A rule between settings, checked after every setting has been read on its own. */
export interface CrossCheck {
  /** One line for docs and test names. */
  readonly description: string;
  /** Throws `invalid(...)` of the setting to change when the rule is broken. */
  readonly check: (settings: ReadSettings) => void;
}

const s = SETTINGS;

/** The production ids: the protected instance plus those listed, once each. */
function productionIds(v: SettingValues): string[] {
  return [...new Set([v.dbInstanceId, ...v.productionInstanceIds])];
}

const VERIFY_NETWORK = ['verifyVpcId', 'verifySubnetIds', 'verifySecurityGroupId'] as const;

function networkGiven(v: SettingValues): (typeof VERIFY_NETWORK)[number][] {
  return VERIFY_NETWORK.filter((name) => {
    const value = v[name];
    return Array.isArray(value) ? value.length > 0 : value !== undefined;
  });
}

export const CHECKS: readonly CrossCheck[] = [
  {
    description: 'no production instance id starts with the restore prefix',
    check: ({ values: v }) => {
      for (const id of productionIds(v)) {
        if (id.toLowerCase().startsWith(v.restoreInstancePrefix.toLowerCase())) {
          throw invalid(
            s.restoreInstancePrefix,
            v.restoreInstancePrefix,
            `would let a restore target the production instance ${id}; choose a prefix no production id starts with`,
          );
        }
      }
    },
  },
  {
    description: "the restore-test stuck limit (hours) is shorter than the overdue alarm's age (days)",
    check: ({ values: v }) => {
      if (v.restoreTestStuckHours >= v.restoreTestMaxDaysWithoutSuccess * 24) {
        throw invalid(
          s.restoreTestStuckHours,
          v.restoreTestStuckHours,
          `must be shorter than restoreTestMaxDaysWithoutSuccess (${v.restoreTestMaxDaysWithoutSuccess} days)`,
        );
      }
    },
  },
  {
    description:
      "verify-restore's login settings (`KB_VERIFY_AUTH`, `KB_VERIFY_SECRET_ARN`) need its network settings",
    check: ({ values: v, isSet }) => {
      if (networkGiven(v).length === 0 && (isSet('verifyAuth') || isSet('verifySecretArn'))) {
        throw invalid(
          s.verifyVpcId,
          v.verifyVpcId,
          `must be set (with ${s.verifySubnetIds.env} and ${s.verifySecurityGroupId.env}) when ${s.verifyAuth.env} or ${s.verifySecretArn.env} is set: verify-restore can only reach a restored instance from inside its VPC`,
        );
      }
    },
  },
  {
    description: "verify-restore's VPC, subnets and security group: all three or none",
    check: ({ values: v }) => {
      const present = networkGiven(v);
      const missing = VERIFY_NETWORK.find((name) => !present.includes(name));
      if (present.length > 0 && missing !== undefined) {
        throw invalid(
          s[missing],
          undefined,
          `is required with ${present.map((name) => s[name].env).join(' and ')}: verify-restore needs the VPC, its subnets and its security group together (or none of them: verification then records NOT_CONFIGURED)`,
        );
      }
    },
  },
  {
    description: '`KB_VERIFY_SECRET_ARN` with `KB_VERIFY_AUTH=secret`, and only then',
    check: ({ values: v }) => {
      if (v.verifyAuth === 'secret' && v.verifySecretArn === undefined) {
        throw invalid(s.verifySecretArn, undefined, `is required when ${s.verifyAuth.env}=secret`);
      }
      if (v.verifyAuth === 'iam' && v.verifySecretArn !== undefined) {
        throw invalid(
          s.verifySecretArn,
          v.verifySecretArn,
          `is only used with ${s.verifyAuth.env}=secret; remove it or set ${s.verifyAuth.env}=secret`,
        );
      }
    },
  },
];

/** The context keys kb-dr reads; any other `kb:` key is a misspelling. */
const CONTEXT_KEYS: readonly string[] = Object.values(SETTINGS as Record<string, SettingRow>).map(
  (r) => r.context,
);

/** The known key a misspelled one most likely meant, if any is close. */
function likelyMeant(key: string): string | undefined {
  const bare = key.slice('kb:'.length).toLowerCase();
  const contains = CONTEXT_KEYS.filter((k) => {
    const known = k.slice('kb:'.length).toLowerCase();
    return bare.length >= 4 && (known.includes(bare) || bare.includes(known));
  });
  if (contains.length === 1) return contains[0];
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(bare.length / 4)) + 1;
  for (const k of CONTEXT_KEYS) {
    const d = editDistance(bare, k.slice('kb:'.length).toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Refuse a `kb:` context key kb-dr does not read (cdk's own keys are left alone). */
function refuseUnknownContextKeys(keys: Iterable<string>): void {
  for (const key of keys) {
    if (!key.startsWith('kb:') || CONTEXT_KEYS.includes(key)) continue;
    const guess = likelyMeant(key);
    throw new ConfigurationError(
      `unknown context key ${key}${guess ? ` (did you mean ${guess}?)` : ''}: kb-dr would ignore its value; ` +
        `rename or remove it (the settings are listed in README.md, section Configuration)`,
    );
  }
}

/**
 * Build and validate the configuration. Throws ConfigurationError on the first invalid setting.
 * With `contextKeys` (every context key the app holds), a misspelled `kb:` key is refused too.
 */
export function loadConfig(
  ctx: ContextReader,
  env: NodeJS.ProcessEnv = process.env,
  contextKeys?: Iterable<string>,
): KbDrConfig {
  if (contextKeys) refuseUnknownContextKeys(contextKeys);
  const settings = readSettings(ctx, env);
  for (const rule of CHECKS) rule.check(settings);
  const v = settings.values;
  const testOff = v.restoreTestSchedule === RESTORE_TEST_OFF;
  const network = networkGiven(v).length > 0;
  return {
    dbInstanceId: v.dbInstanceId,
    backupRetentionDays: v.backupRetentionDays,
    backupSchedule: v.backupSchedule,
    scheduleExpression: toScheduleExpression(v.backupSchedule),
    backupTimezone: v.backupTimezone,
    alarmEmails: v.alarmEmails,
    productionInstanceIds: productionIds(v),
    restoreInstancePrefix: v.restoreInstancePrefix,
    functionNamePrefix: v.functionNamePrefix,
    validationSchedule: v.validationSchedule,
    validationScheduleExpression: toScheduleExpression(v.validationSchedule),
    shareableTestEvents: v.shareableTestEvents,
    entryCountDropFraction: v.entryCountDropFraction,
    restoreTestSchedule: v.restoreTestSchedule,
    restoreTestScheduleExpression: testOff ? undefined : toScheduleExpression(v.restoreTestSchedule),
    restoreTestMaxDaysWithoutSuccess: v.restoreTestMaxDaysWithoutSuccess,
    restoreTestInstanceClass: v.restoreTestInstanceClass,
    restoreTestStuckHours: v.restoreTestStuckHours,
    restoreTestAllowConcurrent: v.restoreTestAllowConcurrent,
    ...(network
      ? {
          verification: {
            vpcId: v.verifyVpcId ?? '',
            subnetIds: v.verifySubnetIds,
            securityGroupId: v.verifySecurityGroupId ?? '',
            auth: v.verifyAuth,
            dbUser: v.verifyDbUser,
            ...(v.verifySecretArn !== undefined ? { secretArn: v.verifySecretArn } : {}),
            database: v.verifyDatabase,
          },
        }
      : {}),
  };
}
