/**
 * What the synthesized restore-test alarms do over weeks of scenario data, with CloudWatch's
 * evaluation rules (harness/alarm-evaluator.ts) and the function's emission rules
 * (harness/restore-test-scenarios.ts): a failed test, missed tests, a silent function, an orphaned
 * test instance, and a deployment with the schedule turned off.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ALARM_NAMES } from '../../core/metrics-catalog';
import {
  alarmsFromTemplate,
  simulate,
  type AlarmState,
  type Simulation,
} from '../../harness/alarm-evaluator';
import { DAY, HOUR, START } from '../../harness/alarm-scenarios';
import { testAppTemplates } from '../../harness/synth-cache';
import {
  restoreTestEmitted,
  testRequestedAt,
  type RestoreTestScenario,
} from '../../harness/restore-test-scenarios';

const RESTORE_TEST_ALARMS: readonly string[] = [
  ALARM_NAMES.restoreTestFailed,
  ALARM_NAMES.restoreTestOverdue,
  ALARM_NAMES.restoreTestOrphan,
];

function restoreTestAlarms(context: Record<string, unknown>) {
  const { operations } = testAppTemplates({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return new Map([...alarmsFromTemplate(operations)].filter(([, a]) => RESTORE_TEST_ALARMS.includes(a.name)));
}
const alarms = restoreTestAlarms({});
const alarmsOff = restoreTestAlarms({ 'kb:restoreTestSchedule': 'off' });

function run(scenario: RestoreTestScenario, defs = alarms): Simulation {
  return simulate(defs, restoreTestEmitted(scenario), START + HOUR, START + scenario.days * DAY);
}

function statesOf(sim: Simulation, name: string, from: number, to: number): Set<AlarmState> {
  return new Set(sim.timeline.filter((e) => e.t >= from && e.t <= to).map((e) => e.states.get(name)!));
}

describe('restore-test alarms over scenario time series (synthesized definitions, CloudWatch rules)', () => {
  it('models the three restore-test alarms from the template, each to the on-call topic on ALARM and OK', () => {
    expect([...alarms.values()].map((a) => a.name).sort()).toEqual([...RESTORE_TEST_ALARMS].sort());
    const cfn = Template.fromJSON(
      testAppTemplates({ context: { 'aws:cdk:bundling-stacks': [] } }).operations,
    );
    for (const name of RESTORE_TEST_ALARMS) {
      const found = Object.values(
        cfn.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }),
      );
      expect(found).toHaveLength(1);
      const props = found[0]!.Properties as { AlarmActions: unknown[]; OKActions: unknown[] };
      expect(props.AlarmActions).toHaveLength(1);
      expect(props.OKActions).toEqual(props.AlarmActions);
    }
  });

  it('stays OK through two months of passing weekly tests', () => {
    const sim = run({ days: 60 });
    expect(sim.changes.filter((c) => c.state === 'ALARM')).toEqual([]);
    expect(statesOf(sim, ALARM_NAMES.restoreTestOverdue, START + DAY, START + 60 * DAY)).toEqual(
      new Set(['OK']),
    );
  });

  it('raises KB-RestoreTestFailed at the first evaluation after a failed test and clears it when the next test passes', () => {
    // Act: week 1's test fails (recorded 05:00 on day 9), week 2's passes (05:00 on day 16).
    const sim = run({ days: 30, week: (w) => (w === 1 ? 'fail' : 'pass') });
    // Assess
    const failedAt = testRequestedAt(1) + HOUR;
    const alarmAt = sim.firstTimeIn(ALARM_NAMES.restoreTestFailed, 'ALARM');
    expect(alarmAt).toBeDefined();
    expect(alarmAt! - failedAt).toBeGreaterThanOrEqual(0);
    expect(alarmAt! - failedAt).toBeLessThanOrEqual(10 * 60_000);
    // Held through the silent week (missing data ignored) ...
    expect(statesOf(sim, ALARM_NAMES.restoreTestFailed, alarmAt!, testRequestedAt(2))).toEqual(
      new Set(['ALARM']),
    );
    // ... and OK within 10 minutes of the next pass.
    const okAt = sim.firstTimeIn(ALARM_NAMES.restoreTestFailed, 'OK', alarmAt!);
    expect(okAt! - (testRequestedAt(2) + HOUR)).toBeLessThanOrEqual(10 * 60_000);
    // With a weekly schedule, one failed week also leaves the last success older than 8 days a day
    // later: the overdue alarm follows (8 days after week 0's success), and clears with week 2's pass.
    const overdueAt = sim.firstTimeIn(ALARM_NAMES.restoreTestOverdue, 'ALARM', START + DAY);
    expect(overdueAt! - (testRequestedAt(0) + HOUR)).toBeGreaterThan(8 * DAY);
    expect(sim.stateAt(ALARM_NAMES.restoreTestOverdue, testRequestedAt(2) + 3 * HOUR)).toBe('OK');
  });

  it('raises KB-RestoreTestOverdue 8 days after the last success when tests stop passing, not before, and clears on the next pass', () => {
    // Week 0 passes (verified day 2 05:00); weeks 1 and 2 are missed; week 3 passes.
    const sim = run({ days: 30, week: (w) => (w === 1 || w === 2 ? 'missed' : 'pass') });
    const lastSuccess = testRequestedAt(0) + HOUR;
    const alarmAt = sim.firstTimeIn(ALARM_NAMES.restoreTestOverdue, 'ALARM', START + DAY);
    expect(alarmAt).toBeDefined();
    expect(alarmAt! - lastSuccess).toBeGreaterThan(8 * DAY);
    expect(alarmAt! - lastSuccess).toBeLessThanOrEqual(8 * DAY + 2 * HOUR);
    const okAt = sim.firstTimeIn(ALARM_NAMES.restoreTestOverdue, 'OK', alarmAt!);
    expect(okAt! - (testRequestedAt(3) + HOUR)).toBeLessThanOrEqual(2 * HOUR);
    expect(statesOf(sim, ALARM_NAMES.restoreTestFailed, START + DAY, START + 30 * DAY)).not.toContain(
      'ALARM',
    );
  });

  it('raises KB-RestoreTestOverdue when the function stops reporting altogether (missing data is breaching)', () => {
    const silence = { from: START + 10 * DAY, to: START + 13 * DAY };
    const sim = run({ days: 20, silence });
    const alarmAt = sim.firstTimeIn(ALARM_NAMES.restoreTestOverdue, 'ALARM', START + DAY);
    expect(alarmAt).toBeDefined();
    expect(alarmAt! - silence.from).toBeLessThanOrEqual(2 * HOUR);
    // The failed and orphan alarms do not page for silence.
    expect(statesOf(sim, ALARM_NAMES.restoreTestFailed, silence.from, silence.to)).not.toContain('ALARM');
    expect(statesOf(sim, ALARM_NAMES.restoreTestOrphan, silence.from, silence.to)).not.toContain('ALARM');
  });

  it('is in ALARM from the first pass of a deployment that has never passed a test (first test: invoke {"action": "start"})', () => {
    const sim = run({ days: 3, priorSuccess: null, week: () => 'missed' });
    expect(sim.stateAt(ALARM_NAMES.restoreTestOverdue, START + 2 * HOUR)).toBe('ALARM');
  });

  it('raises KB-RestoreTestOrphanInstance while a test instance could not be deleted, and clears once it is gone', () => {
    const sim = run({ days: 14, week: (w) => (w === 1 ? 'orphan' : 'pass'), orphanHours: 5 });
    const orphanedAt = testRequestedAt(1) + HOUR;
    const alarmAt = sim.firstTimeIn(ALARM_NAMES.restoreTestOrphan, 'ALARM');
    expect(alarmAt).toBeDefined();
    expect(alarmAt! - orphanedAt).toBeLessThanOrEqual(HOUR);
    const okAt = sim.firstTimeIn(ALARM_NAMES.restoreTestOrphan, 'OK', alarmAt!);
    expect(okAt).toBeDefined();
    expect(okAt! - (orphanedAt + 5 * HOUR)).toBeLessThanOrEqual(2 * HOUR);
    // The test itself passed.
    expect(statesOf(sim, ALARM_NAMES.restoreTestFailed, START + DAY, START + 14 * DAY)).not.toContain(
      'ALARM',
    );
  });

  describe('with the schedule turned off (restoreTestSchedule=off)', () => {
    it('has no overdue alarm, and keeps the failed and orphan alarms', () => {
      expect([...alarmsOff.values()].map((a) => a.name).sort()).toEqual(
        [ALARM_NAMES.restoreTestFailed, ALARM_NAMES.restoreTestOrphan].sort(),
      );
    });

    it('never pages for weeks without any test', () => {
      const sim = run({ days: 40, priorSuccess: null, week: () => 'missed' }, alarmsOff);
      expect(sim.changes.filter((c) => c.state === 'ALARM')).toEqual([]);
    });

    it('still reports a failed test someone started by hand', () => {
      const sim = run(
        { days: 14, priorSuccess: null, week: (w) => (w === 1 ? 'fail' : 'missed') },
        alarmsOff,
      );
      expect(sim.stateAt(ALARM_NAMES.restoreTestFailed, testRequestedAt(1) + 2 * HOUR)).toBe('ALARM');
    });
  });
});
