/** Last step: the measured recovery figures against the targets (RTO 4 h, RPO 24 h nightly). */
import type { DrillContext } from '../context';
import type { DrillStep } from '../runner';

export const TARGETS = { rtoSeconds: 4 * 3600, rpoNightlySeconds: 24 * 3600 } as const;

export const targetsStep: DrillStep<DrillContext> = {
  id: 'targets',
  title: 'Measured RTO and data-loss window against the targets',
  needs: ['local'],
  async run(ctx) {
    const { localRestoreSeconds, localDataLossSeconds } = ctx.measured;
    if (localRestoreSeconds === undefined || localDataLossSeconds === undefined) {
      throw new Error('the local restore step recorded no figures');
    }
    const rtoOk = localRestoreSeconds <= TARGETS.rtoSeconds;
    const rpoOk = localDataLossSeconds <= TARGETS.rpoNightlySeconds;
    const details = [
      `local restore (validate + load + verify + swap): ${localRestoreSeconds.toFixed(1)} s against RTO ${TARGETS.rtoSeconds / 3600} h: ${rtoOk ? 'met' : 'MISSED'}`,
      `data-loss window (backup to disaster): ${localDataLossSeconds.toFixed(1)} s, ${ctx.measured.localEntriesLost ?? 0} entries lost, against RPO ${TARGETS.rpoNightlySeconds / 3600} h: ${rpoOk ? 'met' : 'MISSED'}`,
    ];
    if (!rtoOk || !rpoOk) throw new Error(details.join('; '));
    return {
      details,
      figures: { localRestoreSeconds, localDataLossSeconds },
    };
  },
};
