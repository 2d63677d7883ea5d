/** The restore-test function's cold-start settings: defaults, overrides, and refusals naming the variable. */
import { ConfigurationError } from '../../../core/errors';
import { loadRestoreTestConfig } from '../../../lambda/restore-test/config';

const BASE = {
  KB_DB_INSTANCE_ID: 'kb-prod',
  KB_BACKUP_BUCKET: 'kb-backups',
  KB_EXPORT_ROLE_ARN: 'arn:aws:iam::123456789012:role/kb-dr-export',
  KB_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
};

describe('loadRestoreTestConfig', () => {
  it('applies the defaults on top of the shared runtime config', () => {
    expect(loadRestoreTestConfig(BASE)).toMatchObject({
      dbInstanceId: 'kb-prod',
      backupBucket: 'kb-backups',
      instanceClass: 'db.t4g.medium',
      stuckHours: 6,
      allowConcurrent: false,
    });
  });

  it('reads the variables the stack sets', () => {
    expect(
      loadRestoreTestConfig({
        ...BASE,
        KB_RESTORE_TEST_INSTANCE_CLASS: 'db.r6g.large',
        KB_RESTORE_TEST_STUCK_HOURS: '2.5',
        KB_RESTORE_TEST_ALLOW_CONCURRENT: 'true',
      }),
    ).toMatchObject({ instanceClass: 'db.r6g.large', stuckHours: 2.5, allowConcurrent: true });
  });

  it.each([
    [
      'KB_RESTORE_TEST_INSTANCE_CLASS',
      'r6g.large',
      /KB_RESTORE_TEST_INSTANCE_CLASS=r6g\.large is not an RDS instance class; e\.g\. KB_RESTORE_TEST_INSTANCE_CLASS=db\.t4g\.medium/,
    ],
    [
      'KB_RESTORE_TEST_STUCK_HOURS',
      '0',
      /KB_RESTORE_TEST_STUCK_HOURS=0 is not a number of hours from 1 to 48; e\.g\. KB_RESTORE_TEST_STUCK_HOURS=6/,
    ],
    ['KB_RESTORE_TEST_STUCK_HOURS', 'six', /KB_RESTORE_TEST_STUCK_HOURS=six/],
    ['KB_RESTORE_TEST_ALLOW_CONCURRENT', 'yes', /KB_RESTORE_TEST_ALLOW_CONCURRENT=yes must be true or false/],
  ])('fails the cold start on %s=%s, naming it with an example', (name, value, message) => {
    let caught: unknown;
    try {
      loadRestoreTestConfig({ ...BASE, [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).userMessage).toMatch(message);
  });
});
