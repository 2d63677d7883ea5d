/**
 * What the synthesized backup alarms do over weeks of scenario data, using CloudWatch's
 * documented evaluation rules (test/support/alarm-evaluator.ts). The datapoints follow the
 * pipeline's emission rules: an outcome emits BackupSuccess and BackupFailure as 1/0, the
 * snapshot's availability emits BackupDuration, and the reconcile pass emits TimeSinceLastBackup
 * every 15 minutes (the sentinel while nothing ever succeeded).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { hoursBetween, NO_SUCCESSFUL_BACKUP_HOURS } from '../../lambda/shared/backup-pipeline';
import { ALARM_NAMES } from '../../lambda/shared/metrics-catalog';
import {
  alarmsFromTemplate,
  simulate,
  type AlarmState,
  type Datapoint,
  type Simulation,
} from '../support/alarm-evaluator';
import { buildTestApp } from '../support/app';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 10, 1, 0, 0, 0);

// No asset bundling: only the alarm definitions are read.
const { operations } = buildTestApp({ 'aws:cdk:bundling-stacks': [] }, {});
const alarms = alarmsFromTemplate(Template.fromStack(operations).toJSON());

type Night = 'success' | 'failure' | 'missed';

interface Scenario {
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
function emitted(scenario: Scenario): Map<string, Datapoint[]> {
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

function run(scenario: Scenario): Simulation {
  // Data starts at START: the first evaluation is at the end of the first full period.
  return simulate(alarms, emitted(scenario), START + HOUR, START + scenario.days * DAY);
}

function statesOf(sim: Simulation, name: string, from: number, to: number): Set<AlarmState> {
  return new Set(sim.timeline.filter((e) => e.t >= from && e.t <= to).map((e) => e.states.get(name)!));
}

const at = (day: number, hour: number, minute = 0): number =>
  START + day * DAY + hour * HOUR + minute * 60_000;

describe('backup alarms over scenario time series (synthesized definitions, CloudWatch rules)', () => {
  it('models all four backup alarms from the template', () => {
    expect([...alarms.values()].map((a) => a.name).sort()).toEqual(
      [
        ALARM_NAMES.backupFailure,
        ALARM_NAMES.backupStale,
        ALARM_NAMES.backupRunFailed,
        ALARM_NAMES.backupDurationHigh,
      ].sort(),
    );
  });

  it('stays OK through a month of good nights', () => {
    const sim = run({ days: 30 });
    expect(statesOf(sim, ALARM_NAMES.backupFailure, START, at(30, 0))).toEqual(new Set(['OK']));
    expect(statesOf(sim, ALARM_NAMES.backupDurationHigh, START, at(30, 0))).toEqual(new Set(['OK']));
    expect(sim.changes.filter((c) => c.state === 'ALARM')).toEqual([]);
  });

  it('goes to ALARM within 26 h of the last success when one night is missed, not before 25 h', () => {
    // Prepare
    const lastSuccess = at(9, 2, 40);
    // Act
    const sim = run({ days: 14, night: (d) => (d === 10 ? 'missed' : 'success') });
    // Assess
    const alarmAt = sim.firstTimeIn(ALARM_NAMES.backupFailure, 'ALARM');
    expect(alarmAt).toBeDefined();
    expect(alarmAt! - lastSuccess).toBeGreaterThan(25 * HOUR);
    expect(alarmAt! - lastSuccess).toBeLessThanOrEqual(26 * HOUR);
    expect(sim.stateAt(ALARM_NAMES.backupRunFailed, alarmAt!)).not.toBe('ALARM');
  });

  it('returns to OK after the next success following a missed night', () => {
    const sim = run({ days: 14, night: (d) => (d === 10 ? 'missed' : 'success') });
    const okAgain = sim.firstTimeIn(ALARM_NAMES.backupFailure, 'OK', at(11, 2, 40));
    expect(okAgain).toBeDefined();
    expect(okAgain! - at(11, 2, 40)).toBeLessThanOrEqual(2 * HOUR);
    expect(statesOf(sim, ALARM_NAMES.backupFailure, at(11, 5), at(14, 0))).toEqual(new Set(['OK']));
  });

  it('goes to ALARM at the first evaluation after a failed run and holds it until the next success', () => {
    // Act
    const sim = run({ days: 10, night: (d) => (d === 5 ? 'failure' : 'success') });
    // Assess: failure recorded at 02:40 on day 5, next success at 02:40 on day 6.
    expect(sim.stateAt(ALARM_NAMES.backupFailure, at(5, 2))).toBe('OK');
    expect(sim.stateAt(ALARM_NAMES.backupFailure, at(5, 3))).toBe('ALARM');
    expect(statesOf(sim, ALARM_NAMES.backupRunFailed, at(5, 3), at(6, 2))).toEqual(new Set(['ALARM']));
    expect(statesOf(sim, ALARM_NAMES.backupFailure, at(5, 3), at(6, 2))).toEqual(new Set(['ALARM']));
    expect(sim.stateAt(ALARM_NAMES.backupRunFailed, at(6, 3))).toBe('OK');
    expect(
      sim.firstTimeIn(ALARM_NAMES.backupFailure, 'OK', at(6, 2, 40))! - at(6, 2, 40),
    ).toBeLessThanOrEqual(2 * HOUR);
  });

  it('goes to ALARM when everything falls silent, because missing TimeSinceLastBackup is breaching', () => {
    const silenceFrom = at(10, 12);
    const sim = run({ days: 14, silence: { from: silenceFrom, to: at(14, 0) } });
    const alarmAt = sim.firstTimeIn(ALARM_NAMES.backupFailure, 'ALARM');
    expect(alarmAt).toBeDefined();
    expect(alarmAt! - silenceFrom).toBeLessThanOrEqual(2 * HOUR);
    expect(statesOf(sim, ALARM_NAMES.backupFailure, alarmAt!, at(14, 0))).toEqual(new Set(['ALARM']));
  });

  it('returns to OK at the first success after a silence', () => {
    const sim = run({ days: 14, silence: { from: at(10, 12), to: at(12, 0) } });
    expect(sim.stateAt(ALARM_NAMES.backupFailure, at(12, 2))).toBe('ALARM');
    const okAgain = sim.firstTimeIn(ALARM_NAMES.backupFailure, 'OK', at(12, 2, 40));
    expect(okAgain! - at(12, 2, 40)).toBeLessThanOrEqual(2 * HOUR);
  });

  it('is in ALARM from the start while no backup has ever succeeded (the sentinel breaches)', () => {
    const sim = run({ days: 3, priorSuccess: null, night: (d) => (d === 0 ? 'missed' : 'success') });
    expect(sim.stateAt(ALARM_NAMES.backupFailure, at(0, 1))).toBe('ALARM');
    expect(sim.stateAt(ALARM_NAMES.backupFailure, at(1, 4))).toBe('OK');
  });

  it('trips KB-BackupDurationHigh for a 40-minute snapshot and clears after it', () => {
    const sim = run({ days: 6, backupMinutes: (d) => (d === 3 ? 40 : 12) });
    expect(sim.stateAt(ALARM_NAMES.backupDurationHigh, at(3, 3))).toBe('ALARM');
    expect(sim.stateAt(ALARM_NAMES.backupDurationHigh, at(3, 4))).toBe('OK');
    expect(statesOf(sim, ALARM_NAMES.backupDurationHigh, START, at(3, 2))).toEqual(new Set(['OK']));
  });
});
