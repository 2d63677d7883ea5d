/**
 * Scenario time series for the backup alarms: the datapoints the pipeline emits over days of
 * nights and silences, following its emission rules:
 * - a DEFINITIVE outcome (a recorded manifest) emits BackupSuccess and BackupFailure as 1/0; a
 *   transient fault that a retry heals emits nothing;
 * - the snapshot becoming available emits BackupDuration;
 * - the reconcile pass emits TimeSinceLastBackup every 15 minutes: hours since the newest recovery
 *   point was requested (a snapshot that is available and not recorded FAILED), or the sentinel
 *   while there is none;
 * - a SUCCEEDED backup whose export could be counted emits KnowledgeEntries and
 *   EntryCountDropFraction against the previous successful backup with counts (the reconcile
 *   function's own `entryCountDropFraction`); one whose export could not be read emits neither.
 * Used by the alarm behaviour test and the DR drill. Never imports jest.
 */
import { hoursBetween, NO_SUCCESSFUL_BACKUP_HOURS } from '../lambda/shared/backup-pipeline';
import { entryCountDropFraction } from '../lambda/reconcile/export-row-counts';
import type { Datapoint } from './alarm-evaluator';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const START = Date.UTC(2026, 10, 1, 0, 0, 0);
const MINUTE = 60_000;
const PASS = 15 * MINUTE;

/**
 * What happens to night `d`'s backup (requested at 02:00 UTC):
 * - `success`: snapshot available, export completes, SUCCEEDED recorded;
 * - `failure`: snapshot available, the export fails, FAILED recorded;
 * - `missed`: no snapshot at all (schedule or function never ran);
 * - `transient`: the first attempt hits a transient fault (recorded nothing, emitted nothing),
 *   the retry 15 minutes later succeeds.
 */
export type Night = 'success' | 'failure' | 'missed' | 'transient';

/** An extra backup (on demand): requested at `t`, outcome recorded `minutes` later. */
export interface ExtraBackup {
  readonly t: number;
  readonly ok: boolean;
  /** Minutes from request to the recorded outcome. @default 40 */
  readonly minutes?: number;
}

export interface Scenario {
  readonly days: number;
  /** Outcome of night `d`. @default success */
  readonly night?: (d: number) => Night;
  /** Minutes from request to snapshot available. @default 12 */
  readonly backupMinutes?: (d: number) => number;
  /** Minutes the export runs (snapshot available to outcome recorded). @default 28 */
  readonly exportMinutes?: (d: number) => number;
  /** The request time of a recovery point taken before the scenario starts, or null for none. @default day -1, 02:00 */
  readonly priorSuccess?: number | null;
  /** On-demand backups besides the nights. */
  readonly extra?: readonly ExtraBackup[];
  /** Nothing at all is emitted in [from, to). */
  readonly silence?: { readonly from: number; readonly to: number };
  /**
   * knowledge_entries in night `d`'s export, or undefined when its Parquet could not be read (no
   * counts recorded). When not given, no entry-count metrics are emitted at all.
   */
  readonly entries?: (d: number) => number | undefined;
  /** The counts of the recovery point before the scenario; undefined: it recorded none. */
  readonly priorEntries?: number;
}

interface Backup {
  readonly requested: number;
  readonly available: number;
  readonly outcomeAt: number;
  readonly ok: boolean;
  readonly entries?: number;
}

/** The datapoints the pipeline emits for `scenario`, per metric name. */
export function emitted(scenario: Scenario): Map<string, Datapoint[]> {
  const series = new Map<string, Datapoint[]>();
  const end = START + scenario.days * DAY;
  const silent = (t: number): boolean =>
    scenario.silence !== undefined && t >= scenario.silence.from && t < scenario.silence.to;
  const put = (name: string, t: number, value: number): void => {
    if (silent(t)) return;
    const list = series.get(name) ?? [];
    list.push({ t, value });
    series.set(name, list);
  };
  const backups: Backup[] = [];
  if (scenario.priorSuccess !== null) {
    const requested = scenario.priorSuccess ?? START - DAY + 2 * HOUR;
    backups.push({
      requested,
      available: requested,
      outcomeAt: requested,
      ok: true,
      ...(scenario.priorEntries !== undefined ? { entries: scenario.priorEntries } : {}),
    });
  }
  for (let d = 0; d < scenario.days; d += 1) {
    let requested = START + d * DAY + 2 * HOUR;
    const night = scenario.night?.(d) ?? 'success';
    if (night === 'missed' || silent(requested)) continue;
    if (night === 'transient') requested += PASS; // the retry names the same snapshot, later
    const minutes = scenario.backupMinutes?.(d) ?? 12;
    const available = requested + minutes * MINUTE;
    put('BackupDuration', available, minutes * 60);
    const outcomeAt = available + (scenario.exportMinutes?.(d) ?? 28) * MINUTE;
    const entries = scenario.entries?.(d);
    backups.push({
      requested,
      available,
      outcomeAt,
      ok: night !== 'failure',
      ...(entries !== undefined ? { entries } : {}),
    });
  }
  for (const x of scenario.extra ?? []) {
    backups.push({
      requested: x.t,
      available: x.t + 12 * MINUTE,
      outcomeAt: x.t + (x.minutes ?? 40) * MINUTE,
      ok: x.ok,
    });
  }
  for (const b of backups) {
    if (b.outcomeAt < START || b.outcomeAt >= end || silent(b.outcomeAt)) continue;
    put('BackupSuccess', b.outcomeAt, b.ok ? 1 : 0);
    put('BackupFailure', b.outcomeAt, b.ok ? 0 : 1);
  }
  if (scenario.entries) {
    let previous: number | undefined;
    for (const b of [...backups].sort((x, y) => x.outcomeAt - y.outcomeAt)) {
      if (!b.ok || b.entries === undefined) continue;
      if (b.outcomeAt >= START && b.outcomeAt < end && !silent(b.outcomeAt)) {
        put('KnowledgeEntries', b.outcomeAt, b.entries);
        put(
          'EntryCountDropFraction',
          b.outcomeAt,
          previous === undefined ? 0 : entryCountDropFraction(previous, b.entries),
        );
      }
      previous = b.entries;
    }
  }
  for (let t = START; t < end; t += PASS) {
    const points = backups.filter((b) => b.available <= t && (b.ok || b.outcomeAt > t));
    const newest = points.reduce<number | undefined>(
      (m, b) => Math.max(m ?? -Infinity, b.requested),
      undefined,
    );
    const hours =
      newest === undefined ? NO_SUCCESSFUL_BACKUP_HOURS : hoursBetween(new Date(newest), new Date(t));
    put('TimeSinceLastBackup', t, hours);
  }
  for (const list of series.values()) list.sort((a, b) => a.t - b.t);
  return series;
}

/** Time `day` days, `hour`:`minute` after START. */
export const at = (day: number, hour: number, minute = 0): number =>
  START + day * DAY + hour * HOUR + minute * 60_000;
