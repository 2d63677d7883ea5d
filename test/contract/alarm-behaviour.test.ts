/**
 * What the synthesized backup alarms do over weeks of scenario data, using CloudWatch's
 * documented evaluation rules (test/support/alarm-evaluator.ts). The datapoints follow the
 * pipeline's emission rules: an outcome emits BackupSuccess and BackupFailure as 1/0, the
 * snapshot's availability emits BackupDuration, and the reconcile pass emits TimeSinceLastBackup
 * every 15 minutes (the sentinel while nothing ever succeeded).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ALARM_NAMES } from '../../lambda/shared/metrics-catalog';
import { alarmsFromTemplate, simulate, type AlarmState, type Simulation } from '../support/alarm-evaluator';
import { at, DAY, emitted, HOUR, START, type Scenario } from '../support/alarm-scenarios';
import { buildTestApp } from '../support/app';

// No asset bundling: only the alarm definitions are read.
const { operations } = buildTestApp({ 'aws:cdk:bundling-stacks': [] }, {});
const alarms = alarmsFromTemplate(Template.fromStack(operations).toJSON());

function run(scenario: Scenario): Simulation {
  // Data starts at START: the first evaluation is at the end of the first full period.
  return simulate(alarms, emitted(scenario), START + HOUR, START + scenario.days * DAY);
}

function statesOf(sim: Simulation, name: string, from: number, to: number): Set<AlarmState> {
  return new Set(sim.timeline.filter((e) => e.t >= from && e.t <= to).map((e) => e.states.get(name)!));
}

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
