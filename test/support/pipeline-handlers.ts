/** Fresh (cold-start) pipeline handler modules under jest: each reads process.env at module load. */
import type { handler as BackupHandler } from '../../lambda/backup/index';
import type { handler as ReconcileHandler } from '../../lambda/reconcile/index';

/**
 * Libraries the handlers import that read no configuration when they load (clients, loggers and
 * schemas are created by our modules, which are loaded afresh). A fresh module registry would load
 * each again at every cold start, the AWS SDK clients alone about half a second of CPU each time;
 * the fresh handler modules get the test file's own copies instead.
 */
const SHARED_LIBRARIES = [
  '@aws-sdk/client-rds',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-cloudwatch',
  '@smithy/core/retry',
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/metrics',
  'zod/mini',
  'zod/v4/core',
  'zod/locales',
  'hyparquet',
] as const;

let shared = false;

/**
 * Run `load` in a fresh module registry (jest.isolateModules): our modules load afresh, as at a
 * Lambda cold start, and the SHARED_LIBRARIES are this file's own loaded copies.
 */
export function coldStart(load: () => void): void {
  if (!shared) {
    for (const name of SHARED_LIBRARIES) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const library: unknown = require(name);
      jest.doMock(name, () => library);
    }
    shared = true;
  }
  jest.isolateModules(load);
}

/** Fresh backup and reconcile handler modules: each reads process.env at its cold start. */
export function loadPipelineHandlers(): { backup: typeof BackupHandler; reconcile: typeof ReconcileHandler } {
  let backup!: typeof BackupHandler;
  let reconcile!: typeof ReconcileHandler;
  coldStart(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    backup = (require('../../lambda/backup/index') as { handler: typeof BackupHandler }).handler;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    reconcile = (require('../../lambda/reconcile/index') as { handler: typeof ReconcileHandler }).handler;
  });
  return { backup, reconcile };
}
