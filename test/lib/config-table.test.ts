import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from '../../core/errors';
import { buildTestApp } from '../../harness/app';
import {
  CHECKS,
  DEFAULTS,
  loadConfig,
  SETTINGS,
  type Refuse,
  type SettingName,
  type SettingRow,
} from '../../lib/config';

const ROWS = Object.entries(SETTINGS as Record<string, SettingRow>) as [SettingName, SettingRow][];
const ctx =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];
const base = { 'kb:dbInstanceId': 'kb-prod' };
const refuse: Refuse = (why, shown) => {
  throw new Error(`${JSON.stringify(shown)} ${why}`);
};

describe('the settings table', () => {
  it.each(ROWS)('%s: its example parses', (_name, row) => {
    expect(() => row.parse(row.example, refuse)).not.toThrow();
  });

  it('gives every setting its own context key and environment variable', () => {
    const contexts = ROWS.map(([, row]) => row.context);
    const envs = ROWS.map(([, row]) => row.env);
    expect(new Set(contexts).size).toBe(ROWS.length);
    expect(new Set(envs).size).toBe(ROWS.length);
  });

  it.each(ROWS)('%s: context key kb:<name>, a KB_ variable, a description', (name, row) => {
    expect(row.context).toBe(`kb:${name}`);
    expect(row.env).toMatch(/^KB_[A-Z0-9_]+$/);
    expect(row.description.trim()).not.toBe('');
    expect(row.description).not.toMatch(/[|\n]/); // one line of a markdown table
  });

  it.each(ROWS)(
    '%s: either required or defaulted, and the default is what its text parses to',
    (_name, row) => {
      expect(row.required === undefined).toBe('default' in row);
      const value = row.default;
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        expect(row.parse(String(value), refuse)).toEqual(value);
      }
    },
  );

  it('only the protected instance is required', () => {
    expect(ROWS.filter(([, row]) => row.required !== undefined).map(([name]) => name)).toEqual([
      'dbInstanceId',
    ]);
  });

  it('DEFAULTS holds the default of every setting that has one', () => {
    expect(DEFAULTS).toMatchObject({
      backupRetentionDays: 30,
      backupSchedule: '0 2 * * *',
      restoreInstancePrefix: 'kb-restore-',
      functionNamePrefix: 'kb-dr',
      verifyAuth: 'iam',
    });
    expect(Object.keys(DEFAULTS)).not.toContain('dbInstanceId');
    expect(Object.keys(DEFAULTS)).not.toContain('verifyVpcId');
  });

  it.each(ROWS)(
    '%s: a value of the wrong type is refused naming the variable, the context key and the example',
    (_name, row) => {
      const message = new RegExp(
        `${row.env} \\(context ${row.context}\\) = .*e\\.g\\. ${row.env}=${JSON.stringify(row.example).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} or -c ${row.context}=`,
      );
      expect(() => loadConfig(ctx({ ...base, [row.context]: { not: 'a value' } }), {})).toThrow(
        ConfigurationError,
      );
      expect(() => loadConfig(ctx({ ...base, [row.context]: { not: 'a value' } }), {})).toThrow(message);
    },
  );

  it('reads a coherent set of every example together', () => {
    // Prepare: every setting from its example, except the secret ARN, which needs secret auth.
    const env = Object.fromEntries(ROWS.map(([, row]) => [row.env, row.example]));
    // Act
    const config = loadConfig(ctx({}), { ...env, KB_VERIFY_AUTH: 'secret' });
    // Assess
    expect(config).toMatchObject({
      dbInstanceId: 'kb-prod',
      alarmEmails: ['oncall@example.com', 'dba@example.com'],
      productionInstanceIds: ['kb-prod', 'kb-prod-replica'],
      verification: {
        vpcId: 'vpc-0a1b2c3d4e5f67890',
        subnetIds: ['subnet-0a1b2c3d4e5f67890', 'subnet-0f9e8d7c6b5a43210'],
        auth: 'secret',
        secretArn: SETTINGS.verifySecretArn.example,
      },
    });
  });
});

describe('blank values', () => {
  it.each(ROWS.filter(([name]) => name !== 'dbInstanceId'))(
    '%s: a blank context value counts as not set, as a blank variable does',
    (_name, row) => {
      const defaults = loadConfig(ctx(base), {});
      for (const blank of ['', '   ', '\t\n', null]) {
        expect(loadConfig(ctx({ ...base, [row.context]: blank }), {})).toEqual(defaults);
      }
      for (const blank of ['', '   ', '\t\n']) {
        expect(loadConfig(ctx(base), { [row.env]: blank })).toEqual(defaults);
      }
    },
  );

  it('a blank instance id is still refused as not set', () => {
    expect(() => loadConfig(ctx({ 'kb:dbInstanceId': '  ' }), {})).toThrow(
      /the RDS instance to protect is not set; set KB_DB_INSTANCE_ID=kb-prod or pass -c kb:dbInstanceId=kb-prod to cdk/,
    );
  });
});

describe('unknown kb: context keys', () => {
  const keysOf = (values: Record<string, unknown>) => Object.keys(values);

  it.each([
    ['kb:retentionDay', 'kb:backupRetentionDays'],
    ['kb:retentionDays', 'kb:backupRetentionDays'],
    ['kb:dbInstanceID', 'kb:dbInstanceId'],
    ['kb:backupShedule', 'kb:backupSchedule'],
    ['kb:alarmEmail', 'kb:alarmEmails'],
    ['kb:verifyVpc', 'kb:verifyVpcId'],
  ])('refuses %s and suggests %s', (misspelled, meant) => {
    const values = { ...base, [misspelled]: 5 };
    expect(() => loadConfig(ctx(values), {}, keysOf(values))).toThrow(ConfigurationError);
    expect(() => loadConfig(ctx(values), {}, keysOf(values))).toThrow(
      `unknown context key ${misspelled} (did you mean ${meant}?): kb-dr would ignore its value; rename or remove it`,
    );
  });

  it('refuses an unrelated kb: key without a guess', () => {
    const values = { ...base, 'kb:colour': 'blue' };
    expect(() => loadConfig(ctx(values), {}, keysOf(values))).toThrow(
      /^unknown context key kb:colour: kb-dr would ignore its value/,
    );
  });

  it("leaves cdk's own context keys and cdk.json's alone", () => {
    const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
      context: Record<string, unknown>;
    };
    const values = {
      ...cdkJson.context,
      ...base,
      'aws:cdk:bundling-stacks': [],
      'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a'],
      'aws-cdk:enableDiffNoFail': true,
      KB: 'upper case is not ours',
      'kbx:thing': 1,
    };
    expect(loadConfig(ctx(values), {}, keysOf(values)).dbInstanceId).toBe('kb-prod');
  });

  it('is checked when the app is built, before any construct', () => {
    expect(() => buildTestApp({ 'kb:retentionDay': 5 })).toThrow(
      /unknown context key kb:retentionDay \(did you mean kb:backupRetentionDays\?\)/,
    );
  });

  it('checks no keys when none are given (loadConfig with a bare reader, as before)', () => {
    expect(loadConfig(ctx({ ...base, 'kb:retentionDay': 5 }), {}).backupRetentionDays).toBe(30);
  });
});

describe('cross-field checks', () => {
  const VPC = {
    'kb:verifyVpcId': 'vpc-0a1b2c3d4e5f67890',
    'kb:verifySubnetIds': 'subnet-0a1b2c3d4e5f67890',
    'kb:verifySecurityGroupId': 'sg-0a1b2c3d4e5f67890',
  };
  const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kb-verify-AbCdEf';
  // One breaking input per check; a new check without a case here fails the first test.
  const CASES: Record<string, [Record<string, unknown>, RegExp][]> = {
    'no production instance id starts with the restore prefix': [
      [{ 'kb:restoreInstancePrefix': 'kb-' }, /KB_RESTORE_INSTANCE_PREFIX .*production instance kb-prod/],
      [
        { 'kb:productionInstanceIds': 'dr-replica', 'kb:restoreInstancePrefix': 'DR-' },
        /KB_RESTORE_INSTANCE_PREFIX .*"DR-" would let a restore target the production instance dr-replica/,
      ],
    ],
    "the restore-test stuck limit (hours) is shorter than the overdue alarm's age (days)": [
      [
        { 'kb:restoreTestMaxDaysWithoutSuccess': 2, 'kb:restoreTestStuckHours': 48 },
        /KB_RESTORE_TEST_STUCK_HOURS .* must be shorter than restoreTestMaxDaysWithoutSuccess \(2 days\)/,
      ],
    ],
    "verify-restore's login settings (`KB_VERIFY_AUTH`, `KB_VERIFY_SECRET_ARN`) need its network settings": [
      [{ 'kb:verifyAuth': 'iam' }, /KB_VERIFY_VPC_ID .* must be set \(with KB_VERIFY_SUBNET_IDS/],
      [{ 'kb:verifyAuth': 'secret', 'kb:verifySecretArn': SECRET }, /KB_VERIFY_VPC_ID .* must be set/],
    ],
    "verify-restore's VPC, subnets and security group: all three or none": [
      [
        { 'kb:verifyVpcId': VPC['kb:verifyVpcId'] },
        /KB_VERIFY_SUBNET_IDS .* is required with KB_VERIFY_VPC_ID: verify-restore needs/,
      ],
      [
        { ...VPC, 'kb:verifySubnetIds': ' , ' },
        /KB_VERIFY_SUBNET_IDS .* is required with KB_VERIFY_VPC_ID and KB_VERIFY_SECURITY_GROUP_ID/,
      ],
    ],
    '`KB_VERIFY_SECRET_ARN` with `KB_VERIFY_AUTH=secret`, and only then': [
      [
        { ...VPC, 'kb:verifyAuth': 'secret' },
        /KB_VERIFY_SECRET_ARN .* is required when KB_VERIFY_AUTH=secret/,
      ],
      [{ ...VPC, 'kb:verifySecretArn': SECRET }, /is only used with KB_VERIFY_AUTH=secret/],
    ],
  };

  it('every check has breaking cases here', () => {
    expect(CHECKS.map((c) => c.description).sort()).toEqual(Object.keys(CASES).sort());
  });

  it.each(
    Object.entries(CASES).flatMap(([check, cases]) =>
      cases.map(([extra, why]) => [check, extra, why] as const),
    ),
  )('%s: refuses %j', (_check, extra, why) => {
    expect(() => loadConfig(ctx({ ...base, ...extra }), {})).toThrow(ConfigurationError);
    expect(() => loadConfig(ctx({ ...base, ...extra }), {})).toThrow(why);
  });

  it('validates the verify-restore login settings even before the network is set', () => {
    expect(() => loadConfig(ctx({ ...base, 'kb:verifyDbUser': 'Bad-User' }), {})).toThrow(
      /KB_VERIFY_DB_USER .*"Bad-User" must be a lower-case PostgreSQL role name/,
    );
  });
});
