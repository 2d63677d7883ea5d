import { loadConfig } from '../../lib/config';

/**
 * Where each setting comes from, pinned before the settings became a table: a non-blank
 * environment variable (trimmed) wins over the cdk.json context key; a blank one is ignored; with
 * neither, the default applies.
 */
const ctx =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];
const base = { 'kb:dbInstanceId': 'kb-prod' };

describe('loadConfig precedence: environment over context over default', () => {
  it.each([
    // [field, context key, context value, env var, env value, expected]
    ['backupRetentionDays', 'kb:backupRetentionDays', 45, 'KB_BACKUP_RETENTION_DAYS', '60', 60],
    ['backupRetentionDays', 'kb:backupRetentionDays', 45, 'KB_BACKUP_RETENTION_DAYS', '  60  ', 60],
    ['backupRetentionDays', 'kb:backupRetentionDays', 45, 'KB_BACKUP_RETENTION_DAYS', '', 45],
    ['backupRetentionDays', 'kb:backupRetentionDays', 45, 'KB_BACKUP_RETENTION_DAYS', '   ', 45],
    ['backupRetentionDays', 'kb:backupRetentionDays', 45, 'KB_BACKUP_RETENTION_DAYS', undefined, 45],
    ['backupRetentionDays', 'kb:backupRetentionDays', undefined, 'KB_BACKUP_RETENTION_DAYS', undefined, 30],
    ['backupSchedule', 'kb:backupSchedule', '0 3 * * *', 'KB_BACKUP_SCHEDULE', '0 1 * * *', '0 1 * * *'],
    ['backupSchedule', 'kb:backupSchedule', '0 3 * * *', 'KB_BACKUP_SCHEDULE', ' ', '0 3 * * *'],
    ['backupSchedule', 'kb:backupSchedule', undefined, 'KB_BACKUP_SCHEDULE', undefined, '0 2 * * *'],
    [
      'alarmEmails',
      'kb:alarmEmails',
      ['a@example.com'],
      'KB_ALARM_EMAILS',
      'b@example.com',
      ['b@example.com'],
    ],
    ['alarmEmails', 'kb:alarmEmails', ['a@example.com'], 'KB_ALARM_EMAILS', '', ['a@example.com']],
    [
      'restoreTestAllowConcurrent',
      'kb:restoreTestAllowConcurrent',
      true,
      'KB_RESTORE_TEST_ALLOW_CONCURRENT',
      'false',
      false,
    ],
    [
      'restoreTestAllowConcurrent',
      'kb:restoreTestAllowConcurrent',
      true,
      'KB_RESTORE_TEST_ALLOW_CONCURRENT',
      '',
      true,
    ],
    ['restoreTestStuckHours', 'kb:restoreTestStuckHours', 4, 'KB_RESTORE_TEST_STUCK_HOURS', '12', 12],
    ['functionNamePrefix', 'kb:functionNamePrefix', 'ctx-dr', 'KB_FUNCTION_PREFIX', ' env-dr ', 'env-dr'],
  ] as const)(
    '%s: context %s=%j, %s=%j gives %j',
    (field, contextKey, contextValue, envVar, envValue, expected) => {
      // Prepare
      const context = contextValue === undefined ? base : { ...base, [contextKey]: contextValue };
      const env = envValue === undefined ? {} : { [envVar]: envValue };
      // Act
      const config = loadConfig(ctx(context), env);
      // Assess
      expect(config[field]).toEqual(expected);
    },
  );

  it('the environment variable wins for the instance id too, and a blank one falls back to context', () => {
    expect(loadConfig(ctx(base), { KB_DB_INSTANCE_ID: 'kb-other' }).dbInstanceId).toBe('kb-other');
    expect(loadConfig(ctx(base), { KB_DB_INSTANCE_ID: '  ' }).dbInstanceId).toBe('kb-prod');
  });

  it('an invalid context value is never read when the environment variable overrides it', () => {
    expect(
      loadConfig(ctx({ ...base, 'kb:backupRetentionDays': 'forever' }), { KB_BACKUP_RETENTION_DAYS: '10' })
        .backupRetentionDays,
    ).toBe(10);
  });

  it('an invalid environment value is refused even when the context holds a valid one', () => {
    expect(() =>
      loadConfig(ctx({ ...base, 'kb:backupRetentionDays': 10 }), { KB_BACKUP_RETENTION_DAYS: 'forever' }),
    ).toThrow(/KB_BACKUP_RETENTION_DAYS .*"forever"/);
  });
});
