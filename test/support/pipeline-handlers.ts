/** Fresh (cold-start) pipeline handler modules under jest: each reads process.env at module load. */
import type { handler as BackupHandler } from '../../lambda/backup/index';
import type { handler as ReconcileHandler } from '../../lambda/reconcile/index';

/** Fresh backup and reconcile handler modules: each reads process.env at its cold start. */
export function loadPipelineHandlers(): { backup: typeof BackupHandler; reconcile: typeof ReconcileHandler } {
  let backup!: typeof BackupHandler;
  let reconcile!: typeof ReconcileHandler;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    backup = (require('../../lambda/backup/index') as { handler: typeof BackupHandler }).handler;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    reconcile = (require('../../lambda/reconcile/index') as { handler: typeof ReconcileHandler }).handler;
  });
  return { backup, reconcile };
}
