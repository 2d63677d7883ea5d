/**
 * Scenario time series for the backup alarms: the datapoints the pipeline emits over days of
 * nights (success, failure, missed) and silences, following its emission rules (an outcome emits
 * BackupSuccess and BackupFailure as 1/0, the snapshot's availability emits BackupDuration, the
 * reconcile pass emits TimeSinceLastBackup every 15 minutes, the sentinel while nothing ever
 * succeeded). Used by the alarm behaviour test and the DR drill.
 */
import { hoursBetween, NO_SUCCESSFUL_BACKUP_HOURS } from '../../lambda/shared/backup-pipeline';
import type { Datapoint } from './alarm-evaluator';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const START = Date.UTC(2026, 10, 1, 0, 0, 0);

export type Night = 'success' | 'failure' | 'missed';

export interface Scenario {
  readonly days: number;
  /** Outcome of night `d` (backup requested at 02:00 UTC). @default success */
  readonly night?: (d: number) => Night;
  /** Minutes from request to snapshot available. @default 12 */
  readonly backupMinutes?: (d: number) => number;
  /** A success completed before the scenario starts. @default day -1, 02:40 */
  readonly priorSuccess?: number | null;
  /** Nothing at all is emitted in [from, to). */
  readonly silence?: { readonly from: number; readonly to: number };
}

/** The datapoints the pipeline emits for `scenario`, per metric name. */
export function emitted(scenario: Scenario): Map<string, Datapoint[]> {
  const series = new Map<string, Datapoint[]>();
  const end = START + scenario.days * DAY;
  const silent = (t: number): boolean =>
    scenario.silence !== undefined && t >= scenario.silence.from && t < scenario.silence.to;
  const put = (name: string, t: number, value: number): void => {
    if (silent(t)) return;
    series.set(name, [...(series.get(name) ?? []), { t, value }]);
  };
  let lastSuccess: number | undefined =
    scenario.priorSuccess === null
      ? undefined
      : (scenario.priorSuccess ?? START - DAY + 2 * HOUR + 40 * 60_000);
  const outcomes: { t: number; ok: boolean }[] = [];
  for (let d = 0; d < scenario.days; d += 1) {
    const requested = START + d * DAY + 2 * HOUR;
    const night = scenario.night?.(d) ?? 'success';
    if (night === 'missed' || silent(requested)) continue;
    const minutes = scenario.backupMinutes?.(d) ?? 12;
    put('BackupDuration', requested + minutes * 60_000, minutes * 60);
    outcomes.push({ t: requested + (minutes + 28) * 60_000, ok: night === 'success' });
  }
  for (let t = START; t < end; t += 15 * 60_000) {
    for (const o of outcomes.filter((x) => x.t > t - 15 * 60_000 && x.t <= t)) {
      if (silent(o.t)) continue;
      put('BackupSuccess', o.t, o.ok ? 1 : 0);
      put('BackupFailure', o.t, o.ok ? 0 : 1);
      if (o.ok) {
        lastSuccess = o.t;
        put('TimeSinceLastBackup', o.t, 0);
      }
    }
    const hours =
      lastSuccess === undefined
        ? NO_SUCCESSFUL_BACKUP_HOURS
        : hoursBetween(new Date(lastSuccess), new Date(t));
    put('TimeSinceLastBackup', t, hours);
  }
  return series;
}

/** Time `day` days, `hour`:`minute` after START. */
export const at = (day: number, hour: number, minute = 0): number =>
  START + day * DAY + hour * HOUR + minute * 60_000;
