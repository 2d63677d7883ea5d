/**
 * What the synthesized backup alarms do over weeks of scenario data, using CloudWatch's
 * documented evaluation rules (harness/alarm-evaluator.ts). The datapoints follow the
 * pipeline's emission rules (harness/alarm-scenarios.ts): a recorded outcome emits
 * BackupSuccess and BackupFailure as 1/0 (a transient fault emits nothing), the snapshot's
 * availability emits BackupDuration, and the reconcile pass emits TimeSinceLastBackup every 15
 * minutes from the newest recovery point (the sentinel while there is none).
 */
import { ALARM_NAMES, ALARM_THRESHOLDS } from '../../core/metrics-catalog';
import {
  alarmsFromTemplate,
  simulate,
  type AlarmState,
  type Simulation,
} from '../../harness/alarm-evaluator';
import { at, DAY, emitted, HOUR, START, type Scenario } from '../../harness/alarm-scenarios';
import { testAppTemplates } from '../../harness/synth-cache';

// No asset bundling: only the alarm definitions are read.
const { operations } = testAppTemplates({ context: { 'aws:cdk:bundling-stacks': [] } });
// The backup alarms only: the restore-test alarms have their own test (restore-test-alarms.test.ts).
const BACKUP_ALARMS: readonly string[] = [
  ALARM_NAMES.backupFailure,
  ALARM_NAMES.backupStale,
  ALARM_NAMES.backupRunFailed,
  ALARM_NAMES.backupDurationHigh,
  ALARM_NAMES.entryCountDrop,
];
const alarms = new Map([...alarmsFromTemplate(operations)].filter(([, a]) => BACKUP_ALARMS.includes(a.name)));

function run(scenario: Scenario): Simulation {
  // Data starts at START: the first evaluation is at the end of the first full period.
  return simulate(alarms, emitted(scenario), START + HOUR, START + scenario.days * DAY);
}

function statesOf(sim: Simulation, name: string, from: number, to: number): Set<AlarmState> {
  return new Set(sim.timeline.filter((e) => e.t >= from && e.t <= to).map((e) => e.states.get(name)!));
}

describe('backup alarms over scenario time series (synthesized definitions, CloudWatch rules)', () => {
  it('models all five backup alarms from the template', () => {
    expect([...alarms.values()].map((a) => a.name).sort()).toEqual(
      [
        ALARM_NAMES.backupFailure,
        ALARM_NAMES.backupStale,
        ALARM_NAMES.backupRunFailed,
        ALARM_NAMES.backupDurationHigh,
        ALARM_NAMES.entryCountDrop,
      ].sort(),
    );
  });

  it('stays OK through a month of good nights', () => {
    const sim = run({ days: 30 });
    expect(statesOf(sim, ALARM_NAMES.backupFailure, START, at(30, 0))).toEqual(new Set(['OK']));
    expect(statesOf(sim, ALARM_NAMES.backupDurationHigh, START, at(30, 0))).toEqual(new Set(['OK']));
    expect(sim.changes.filter((c) => c.state === 'ALARM')).toEqual([]);
  });

  it('goes to ALARM within 26 h of the last recovery point when one night is missed, not before 25 h', () => {
    // Prepare: the last recovery point is night 9's snapshot, requested at 02:00.
    const lastSuccess = at(9, 2, 0);
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

  it('does not page for a night whose export runs an hour and a half longer than the night before', () => {
    // The RPO is the snapshot's point in time; the export is a second copy with its own signal.
    const sim = run({ days: 14, exportMinutes: (d) => (d === 5 ? 28 + 90 : 28) });
    expect(statesOf(sim, ALARM_NAMES.backupFailure, START, at(14, 0))).toEqual(new Set(['OK']));
    expect(sim.changes.filter((c) => c.state === 'ALARM')).toEqual([]);
  });

  it('still pages for a missed snapshot after a night whose export ran long', () => {
    const sim = run({
      days: 14,
      exportMinutes: (d) => (d === 5 ? 28 + 90 : 28),
      night: (d) => (d === 6 ? 'missed' : 'success'),
    });
    const alarmAt = sim.firstTimeIn(ALARM_NAMES.backupFailure, 'ALARM');
    expect(alarmAt).toBeDefined();
    expect(alarmAt! - at(5, 2, 0)).toBeGreaterThan(25 * HOUR);
    expect(alarmAt! - at(5, 2, 0)).toBeLessThanOrEqual(26 * HOUR);
  });

  it('does not page for a transient fault that the retry heals (nothing is emitted for it)', () => {
    const sim = run({ days: 10, night: (d) => (d === 5 ? 'transient' : 'success') });
    expect(statesOf(sim, ALARM_NAMES.backupFailure, START, at(10, 0))).toEqual(new Set(['OK']));
    expect(statesOf(sim, ALARM_NAMES.backupRunFailed, START, at(10, 0))).not.toContain('ALARM');
  });

  it('clears at the next success even when it lands in the same hour as the failure (no latch until the next night)', () => {
    // Prepare: night 5's export fails (recorded 02:40); on-call takes an on-demand backup at
    // 02:45 that succeeds at 02:58.
    const scenario: Scenario = {
      days: 8,
      night: (d) => (d === 5 ? 'failure' : 'success'),
      extra: [{ t: at(5, 2, 45), ok: true, minutes: 13 }],
    };
    // Act
    const sim = run(scenario);
    // Assess
    expect(sim.stateAt(ALARM_NAMES.backupFailure, at(5, 2, 50))).toBe('ALARM');
    const okAt = sim.firstTimeIn(ALARM_NAMES.backupFailure, 'OK', at(5, 2, 58));
    expect(okAt).toBeDefined();
    expect(okAt! - at(5, 2, 58)).toBeLessThanOrEqual(10 * 60_000);
    expect(statesOf(sim, ALARM_NAMES.backupFailure, okAt!, at(8, 0))).toEqual(new Set(['OK']));
  });
});

describe('KB-EntryCountDrop over scenario time series (synthesized definition, CloudWatch rules)', () => {
  const DROP = ALARM_NAMES.entryCountDrop;
  /** Night d's backup is recorded at 02:40 (12 min snapshot + 28 min export). */
  const recorded = (d: number) => at(d, 2, 40);

  it('uses the default threshold of 0.2 from the catalogue', () => {
    const def = [...alarms.values()].find((a) => a.name === DROP);
    expect(def).toMatchObject({
      kind: 'metric',
      metricName: 'EntryCountDropFraction',
      threshold: ALARM_THRESHOLDS.maxEntryCountDropFraction,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'ignore',
    });
  });

  it('stays OK through a month of a growing Knowledge Base', () => {
    const sim = run({ days: 30, priorEntries: 1000, entries: (d) => 1000 + d * 10 });
    expect(statesOf(sim, DROP, recorded(0) + HOUR, at(30, 0))).toEqual(new Set(['OK']));
  });

  it('a first backup (no previous backup at all) is OK, never ALARM', () => {
    const sim = run({ days: 3, priorSuccess: null, entries: () => 1000 });
    expect(sim.stateAt(DROP, at(0, 2))).toBe('INSUFFICIENT_DATA');
    expect(statesOf(sim, DROP, recorded(0) + 10 * 60_000, at(3, 0))).toEqual(new Set(['OK']));
  });

  it('a first backup after one that recorded no counts (an older manifest) is OK, even far below it', () => {
    // The prior recovery point has no counts: nothing to compare night 0 with.
    const sim = run({ days: 3, entries: () => 10 });
    expect(statesOf(sim, DROP, recorded(0) + 10 * 60_000, at(3, 0))).toEqual(new Set(['OK']));
  });

  it('compares with the previous backup WITH counts when the one in between could not be read', () => {
    // Night 2's export is unreadable (no counts, nothing emitted); night 3 holds half of night 1.
    const sim = run({
      days: 6,
      priorEntries: 1000,
      entries: (d) => (d === 2 ? undefined : d >= 3 ? 500 : 1000),
    });
    expect(sim.stateAt(DROP, recorded(2) + HOUR)).toBe('OK');
    expect(sim.stateAt(DROP, recorded(3) + 10 * 60_000)).toBe('ALARM');
    // Night 4 equals night 3: no new drop, back to OK.
    expect(sim.stateAt(DROP, recorded(4) + 10 * 60_000)).toBe('OK');
  });

  it('keeps ALARM through a night whose export could not be read (an unread export proves no recovery)', () => {
    const sim = run({
      days: 6,
      priorEntries: 1000,
      entries: (d) => (d < 2 ? 1000 : d === 3 ? undefined : 400),
    });
    expect(statesOf(sim, DROP, recorded(2) + 10 * 60_000, recorded(4) - 5 * 60_000)).toEqual(
      new Set(['ALARM']),
    );
    expect(sim.stateAt(DROP, recorded(4) + 10 * 60_000)).toBe('OK');
  });

  it('does not fire for a drop of exactly the threshold (1000 -> 800), fires just above it (1000 -> 799)', () => {
    const exact = run({ days: 3, priorEntries: 1000, entries: (d) => (d === 1 ? 800 : 1000) });
    expect(statesOf(exact, DROP, recorded(0) + 10 * 60_000, at(3, 0))).toEqual(new Set(['OK']));
    const above = run({ days: 3, priorEntries: 1000, entries: (d) => (d === 0 ? 1000 : 799) });
    expect(above.stateAt(DROP, recorded(1) + 10 * 60_000)).toBe('ALARM');
  });

  it('fires at the first evaluation after a backup that lost every entry (drop to 0), and notifies OK after the next stable backup', () => {
    const sim = run({ days: 5, priorEntries: 1000, entries: (d) => (d >= 2 ? 0 : 1000) });
    expect(sim.stateAt(DROP, recorded(2) - 5 * 60_000)).toBe('OK');
    const alarmAt = sim.firstTimeIn(DROP, 'ALARM');
    expect(alarmAt).toBeDefined();
    expect(alarmAt! - recorded(2)).toBeLessThanOrEqual(10 * 60_000);
    expect(statesOf(sim, DROP, alarmAt!, recorded(3))).toEqual(new Set(['ALARM']));
    expect(sim.stateAt(DROP, recorded(3) + 10 * 60_000)).toBe('OK');
  });

  it('an empty Knowledge Base that stays empty (0 -> 0) is OK', () => {
    const sim = run({ days: 4, priorEntries: 0, entries: () => 0 });
    expect(statesOf(sim, DROP, recorded(0) + 10 * 60_000, at(4, 0))).toEqual(new Set(['OK']));
  });

  it('a drop never touches KB-BackupFailure (the backup itself succeeded)', () => {
    const sim = run({ days: 4, priorEntries: 1000, entries: (d) => (d === 2 ? 100 : 1000) });
    expect(sim.stateAt(DROP, recorded(2) + 10 * 60_000)).toBe('ALARM');
    expect(statesOf(sim, ALARM_NAMES.backupFailure, START + HOUR, at(4, 0))).toEqual(new Set(['OK']));
  });
});
