import { ConfigurationError } from '../../core/errors';
import { loadConfig } from '../../lib/config';

const ctx =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];

describe('loadConfig', () => {
  it('applies the documented defaults when only the instance is set', () => {
    // Act
    const config = loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), {});
    // Assess
    expect(config).toEqual({
      dbInstanceId: 'kb-prod',
      backupRetentionDays: 30,
      backupSchedule: '0 2 * * *',
      scheduleExpression: 'cron(0 2 * * ? *)',
      backupTimezone: 'UTC',
      alarmEmails: [],
      productionInstanceIds: ['kb-prod'],
      restoreInstancePrefix: 'kb-restore-',
      functionNamePrefix: 'kb-dr',
      validationSchedule: '0 6 * * 1',
      validationScheduleExpression: 'cron(0 6 ? * 2 *)',
      shareableTestEvents: true,
      entryCountDropFraction: 0.2,
      restoreTestSchedule: '0 4 * * 3',
      restoreTestScheduleExpression: 'cron(0 4 ? * 4 *)',
      restoreTestMaxDaysWithoutSuccess: 8,
      restoreTestInstanceClass: 'db.t4g.medium',
      restoreTestStuckHours: 6,
      restoreTestAllowConcurrent: false,
    });
  });

  it('takes the KB-EntryCountDrop fraction from the environment or context', () => {
    expect(
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_ENTRY_COUNT_DROP_FRACTION: '0.35' })
        .entryCountDropFraction,
    ).toBe(0.35);
    expect(
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod', 'kb:entryCountDropFraction': 0.5 }), {})
        .entryCountDropFraction,
    ).toBe(0.5);
  });

  it.each(['0', '1', '-0.1', '1.5', '20%', 'abc', 'NaN'])(
    'rejects entry-count drop fraction %s, naming the setting and an example',
    (value) => {
      expect(() =>
        loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_ENTRY_COUNT_DROP_FRACTION: value }),
      ).toThrow(
        /KB_ENTRY_COUNT_DROP_FRACTION \(context kb:entryCountDropFraction\).*between 0 and 1, exclusive.*e\.g\. KB_ENTRY_COUNT_DROP_FRACTION="0\.2"/s,
      );
    },
  );

  it('lets environment variables override context', () => {
    const config = loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod', 'kb:backupRetentionDays': 30 }), {
      KB_DB_INSTANCE_ID: 'kb-main',
      KB_BACKUP_RETENTION_DAYS: '45',
      KB_BACKUP_SCHEDULE: '30 1 * * 1-5',
      KB_BACKUP_TIMEZONE: 'Europe/Berlin',
      KB_ALARM_EMAILS: 'oncall@example.com, dba@example.org',
      KB_PRODUCTION_INSTANCE_IDS: 'kb-main-replica',
      KB_RESTORE_INSTANCE_PREFIX: 'dr-',
    });
    expect(config).toMatchObject({
      dbInstanceId: 'kb-main',
      backupRetentionDays: 45,
      scheduleExpression: 'cron(30 1 ? * 2-6 *)',
      backupTimezone: 'Europe/Berlin',
      alarmEmails: ['oncall@example.com', 'dba@example.org'],
      productionInstanceIds: ['kb-main', 'kb-main-replica'],
      restoreInstancePrefix: 'dr-',
    });
  });

  it('requires the protected instance and says how to set it', () => {
    expect(() => loadConfig(ctx({}), {})).toThrow(ConfigurationError);
    expect(() => loadConfig(ctx({}), {})).toThrow(
      /KB_DB_INSTANCE_ID=kb-prod or pass -c kb:dbInstanceId=kb-prod/,
    );
  });

  it.each(['1kb', 'kb--prod', 'kb_prod', 'kb-prod-', 'k'.repeat(64)])(
    'rejects instance id %s that RDS would reject, naming the setting and an example',
    (id) => {
      expect(() => loadConfig(ctx({ 'kb:dbInstanceId': id }), {})).toThrow(
        /KB_DB_INSTANCE_ID.*e\.g\. KB_DB_INSTANCE_ID="kb-prod"/s,
      );
    },
  );

  it.each(['0', '3651', '2.5', 'thirty', '-1'])('rejects retention of %s days', (days) => {
    expect(() =>
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_BACKUP_RETENTION_DAYS: days }),
    ).toThrow(
      /KB_BACKUP_RETENTION_DAYS.*whole number of days from 1 to 3650.*e\.g\. KB_BACKUP_RETENTION_DAYS="30"/s,
    );
  });

  it.each(['1', '3650'])('accepts retention at the bounds (%s days)', (days) => {
    expect(
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_BACKUP_RETENTION_DAYS: days })
        .backupRetentionDays,
    ).toBe(Number(days));
  });

  it.each([
    ['0 2 * *', /has 4 fields; a cron needs 5/],
    ['61 2 * * *', /minute value 61 is outside 0-59/],
    ['0 24 * * *', /hour value 24/],
    ['0 2 1 * MON', /both day-of-month and day-of-week/],
    ['0 2 * * FUNDAY', /not recognised/],
    ['@daily', /has 1 fields; a cron needs 5/],
  ])('rejects malformed cron %s', (cron, why) => {
    expect(() => loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_BACKUP_SCHEDULE: cron })).toThrow(
      why,
    );
    expect(() => loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_BACKUP_SCHEDULE: cron })).toThrow(
      /KB_BACKUP_SCHEDULE.*e\.g\. KB_BACKUP_SCHEDULE="0 2 \* \* \*"/s,
    );
  });

  it('rejects a time zone that is not IANA', () => {
    expect(() =>
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_BACKUP_TIMEZONE: 'Mars/Olympus' }),
    ).toThrow(/KB_BACKUP_TIMEZONE.*not an IANA time zone/);
  });

  it.each(['oncall', 'oncall@', 'on call@example.com', 'a@b'])('rejects alarm e-mail %s', (email) => {
    expect(() =>
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_ALARM_EMAILS: `ok@example.com,${email}` }),
    ).toThrow(/KB_ALARM_EMAILS.*not an e-mail address.*oncall@example.com/s);
  });

  it('rejects a malformed validation schedule, naming the setting', () => {
    expect(() =>
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_VALIDATION_SCHEDULE: 'cron(0 6 ? * MON *)' }),
    ).toThrow(
      /KB_VALIDATION_SCHEDULE.*not a valid 5-field cron.*e\.g\. KB_VALIDATION_SCHEDULE="0 6 \* \* 1"/s,
    );
  });

  it.each(['-kb', 'kb_dr', 'k'.repeat(42)])('rejects function name prefix %s', (prefix) => {
    expect(() => loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_FUNCTION_PREFIX: prefix })).toThrow(
      /KB_FUNCTION_PREFIX.*1-41 letters, digits and hyphens/,
    );
  });

  it('reads the test-event flag as a boolean from context, overridden by the environment', () => {
    expect(
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod', 'kb:shareableTestEvents': false }), {}),
    ).toMatchObject({
      shareableTestEvents: false,
    });
    expect(
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod', 'kb:shareableTestEvents': false }), {
        KB_SHAREABLE_TEST_EVENTS: 'true',
      }),
    ).toMatchObject({ shareableTestEvents: true });
  });

  it('rejects a production id RDS would reject', () => {
    expect(() =>
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_PRODUCTION_INSTANCE_IDS: 'kb-prod,bad_id' }),
    ).toThrow(/KB_PRODUCTION_INSTANCE_IDS.*"bad_id"/);
  });

  it('rejects a restore prefix a production instance id starts with', () => {
    expect(() =>
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_RESTORE_INSTANCE_PREFIX: 'kb-' }),
    ).toThrow(/KB_RESTORE_INSTANCE_PREFIX.*production instance kb-prod/);
  });

  it('lower-cases a mixed-case instance id, as RDS stores it, in the id and the production list', () => {
    // Act
    const config = loadConfig(ctx({ 'kb:dbInstanceId': 'KB-Prod' }), {
      KB_PRODUCTION_INSTANCE_IDS: 'KB-Replica',
    });
    // Assess
    expect(config.dbInstanceId).toBe('kb-prod');
    expect(config.productionInstanceIds).toEqual(['kb-prod', 'kb-replica']);
  });

  it('rejects a malformed restore prefix', () => {
    expect(() =>
      loadConfig(ctx({ 'kb:dbInstanceId': 'kb-prod' }), { KB_RESTORE_INSTANCE_PREFIX: '9restore' }),
    ).toThrow(/KB_RESTORE_INSTANCE_PREFIX/);
  });
});

describe('loadConfig: the weekly restore test', () => {
  const base = { 'kb:dbInstanceId': 'kb-prod' };

  it('turns the schedule off with "off" (any case), leaving no schedule expression', () => {
    const config = loadConfig(ctx({ ...base, 'kb:restoreTestSchedule': 'OFF' }), {});
    expect(config.restoreTestSchedule).toBe('off');
    expect(config.restoreTestScheduleExpression).toBeUndefined();
  });

  it('reads every setting from context, overridden by the environment', () => {
    const config = loadConfig(
      ctx({
        ...base,
        'kb:restoreTestSchedule': '30 5 * * 0',
        'kb:restoreTestMaxDaysWithoutSuccess': 15,
        'kb:restoreTestInstanceClass': 'db.r6g.large',
        'kb:restoreTestStuckHours': '4',
        'kb:restoreTestAllowConcurrent': true,
      }),
      { KB_RESTORE_TEST_MAX_DAYS: '20', KB_RESTORE_TEST_ALLOW_CONCURRENT: 'false' },
    );
    expect(config).toMatchObject({
      restoreTestSchedule: '30 5 * * 0',
      restoreTestScheduleExpression: 'cron(30 5 ? * 1 *)',
      restoreTestMaxDaysWithoutSuccess: 20,
      restoreTestInstanceClass: 'db.r6g.large',
      restoreTestStuckHours: 4,
      restoreTestAllowConcurrent: false,
    });
  });

  it.each([
    [
      'kb:restoreTestSchedule',
      'weekly',
      /KB_RESTORE_TEST_SCHEDULE .*"weekly" is not a valid 5-field cron.*e\.g\. KB_RESTORE_TEST_SCHEDULE="0 4 \* \* 3"/,
    ],
    [
      'kb:restoreTestMaxDaysWithoutSuccess',
      1,
      /KB_RESTORE_TEST_MAX_DAYS .* must be a whole number of days from 2 to 60/,
    ],
    ['kb:restoreTestMaxDaysWithoutSuccess', '8.5', /KB_RESTORE_TEST_MAX_DAYS/],
    ['kb:restoreTestMaxDaysWithoutSuccess', 'eight', /KB_RESTORE_TEST_MAX_DAYS/],
    [
      'kb:restoreTestInstanceClass',
      'large',
      /KB_RESTORE_TEST_INSTANCE_CLASS .*"large" is not an RDS instance class.*e\.g\. KB_RESTORE_TEST_INSTANCE_CLASS="db\.t4g\.medium"/,
    ],
    ['kb:restoreTestStuckHours', 0, /KB_RESTORE_TEST_STUCK_HOURS .* from 1 to 48/],
    ['kb:restoreTestStuckHours', 49, /KB_RESTORE_TEST_STUCK_HOURS/],
    ['kb:restoreTestAllowConcurrent', 'yes', /KB_RESTORE_TEST_ALLOW_CONCURRENT .* must be true or false/],
  ])('rejects %s = %p, naming the setting with an example', (key, value, message) => {
    expect(() => loadConfig(ctx({ ...base, [key]: value }), {})).toThrow(ConfigurationError);
    expect(() => loadConfig(ctx({ ...base, [key]: value }), {})).toThrow(message);
  });

  it('rejects a stuck limit as long as the overdue alarm age', () => {
    expect(() =>
      loadConfig(
        ctx({ ...base, 'kb:restoreTestMaxDaysWithoutSuccess': 2, 'kb:restoreTestStuckHours': 48 }),
        {},
      ),
    ).toThrow(/must be shorter than restoreTestMaxDaysWithoutSuccess \(2 days\)/);
  });
});
