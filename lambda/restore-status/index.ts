/** restore-status Lambda: state, RTO clock, endpoint, data verification and next steps of a restore. */
import { restoreHandler } from '../shared/handler';
import { readVerification } from '../shared/verification-store';
import { loadVerifySettings } from '../shared/verify-settings';
import { RESTORE_STATUS_EVENT } from './contract';
import { restoreStatus } from './restore-status';

const verifySettings = loadVerifySettings();

export const handler = restoreHandler('restore-status', RESTORE_STATUS_EVENT, async (input, fn) => {
  const verification = {
    read: (id: string) => readVerification({ s3: fn.s3(), bucket: fn.config.backupBucket }, id),
    configured: verifySettings.mode !== 'not-configured',
  };
  const result = await restoreStatus(
    { rds: fn.rds(), config: fn.config, verification, metrics: fn.metrics },
    input,
  );
  fn.logger.info('restore-status', { state: result.state, elapsedSeconds: result.elapsedSeconds });
  return result;
});
