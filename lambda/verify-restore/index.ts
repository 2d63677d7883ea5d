/**
 * verify-restore Lambda: data checks of a restored kb-restore-* instance. Targets: the RDS event
 * rule (a restored instance became available), the periodic backstop (`{"pass": true}`), and the
 * console or CLI (`{"targetInstanceId": "kb-restore-drill-1"}`); see ./contract.ts.
 */
import { restoreHandler } from '../shared/handler';
import { loginFor } from '../shared/verify-login';
import { loadVerifySettings } from '../shared/verify-settings';
import { VERIFY_RESTORE_INPUT } from './contract';
import { loadRdsCaBundle } from './rds-ca';
import { runVerifyRestore } from './verify-restore';

const settings = loadVerifySettings();
const login = loginFor(settings);

export const handler = restoreHandler('verify-restore', VERIFY_RESTORE_INPUT, (input, fn) =>
  runVerifyRestore(
    {
      rds: fn.rds(),
      s3: fn.s3(),
      config: fn.config,
      metrics: fn.metrics,
      settings,
      login,
      ca: loadRdsCaBundle,
    },
    input,
    fn.logger,
  ),
);
