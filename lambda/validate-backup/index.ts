/** validate-backup Lambda: PASS/FAIL report on one backup; emits BackupValidation. */
import { KbMetrics } from '../../core/metrics-catalog';
import { restoreHandler } from '../shared/handler';
import { VALIDATE_BACKUP_EVENT } from './contract';
import { validateBackup } from './validate-backup';

export const handler = restoreHandler(
  'validate-backup',
  VALIDATE_BACKUP_EVENT,
  (input, fn) =>
    validateBackup({ rds: fn.rds(), s3: fn.s3(), config: fn.config, metrics: fn.metrics }, input),
  {
    after(answer, fn, inv) {
      if ('result' in answer) fn.logger.info(`validate-backup ${answer.result}`, { report: answer.report });
      // A validation that could not run at all (AWS fault) counts as a failed validation on the
      // dashboard; a malformed event does not (nothing was validated).
      if (!inv.emitted() && answer.ok === false && answer.errorType !== 'ValidationError')
        fn.metrics.add(KbMetrics.BackupValidation, 0);
    },
  },
);
