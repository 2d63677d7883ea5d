/**
 * Step 6: a missed night, a failed night and a night whose export runs 90 minutes longer replayed
 * through the synthesized alarm definitions with CloudWatch's evaluation rules (moto never
 * evaluates alarms), showing KB-BackupFailure go to ALARM and back to OK, and stay OK for the
 * long export (TimeSinceLastBackup is measured from the recovery point, not the export).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ALARM_NAMES } from '../../core/metrics-catalog';
import { alarmsFromTemplate, simulate } from '../../harness/alarm-evaluator';
import { at, DAY, emitted, HOUR, START } from '../../harness/alarm-scenarios';
import { buildTestApp } from '../../harness/app';
import type { DrillContext } from '../context';
import type { DrillStep } from '../runner';

function stamp(t: number): string {
  const d = Math.floor((t - START) / DAY);
  return `night ${d + 1} ${new Date(t).toISOString().slice(11, 16)} UTC`;
}

export const alarmReplayStep: DrillStep<DrillContext> = {
  id: 'alarms',
  title: 'Replay a missed, a failed and a slow-export night through the alarms',
  async run(_ctx, log) {
    // The real stacks with cdk.json's context, without asset bundling: only the alarms are read.
    const { operations } = buildTestApp({ 'kb:dbInstanceId': 'kb-drill', 'aws:cdk:bundling-stacks': [] });
    const alarms = alarmsFromTemplate(Template.fromStack(operations).toJSON());
    const days = 9;
    const missed = 2;
    const failed = 5;
    const slowExport = 7;
    const series = emitted({
      days,
      night: (d) => (d === missed ? 'missed' : d === failed ? 'failure' : 'success'),
      exportMinutes: (d) => (d === slowExport ? 28 + 90 : 28),
    });
    const sim = simulate(alarms, series, START + HOUR, START + days * DAY);
    const changes = sim.changes.filter((c) => c.alarm === ALARM_NAMES.backupFailure);
    for (const c of changes) log(`${stamp(c.t)}: ${ALARM_NAMES.backupFailure} → ${c.state}`);

    // The recovery point before the miss: the previous night's snapshot, requested at 02:00.
    const lastSuccessBeforeMiss = at(missed - 1, 2, 0);
    const alarmAfterMiss = sim.firstTimeIn(ALARM_NAMES.backupFailure, 'ALARM', at(missed, 0));
    const okAfterMiss = alarmAfterMiss && sim.firstTimeIn(ALARM_NAMES.backupFailure, 'OK', alarmAfterMiss);
    const alarmAfterFailure = sim.firstTimeIn(ALARM_NAMES.backupFailure, 'ALARM', at(failed, 2));
    const okAfterFailure =
      alarmAfterFailure && sim.firstTimeIn(ALARM_NAMES.backupFailure, 'OK', alarmAfterFailure);
    const problems: string[] = [];
    if (!alarmAfterMiss || alarmAfterMiss - lastSuccessBeforeMiss > 26 * HOUR) {
      problems.push('the missed night did not raise KB-BackupFailure within 26 h of the last recovery point');
    }
    if (!okAfterMiss || okAfterMiss > at(missed + 1, 5))
      problems.push('no OK after the success that followed the missed night');
    if (!alarmAfterFailure || alarmAfterFailure > at(failed, 4))
      problems.push('the failed night did not raise KB-BackupFailure');
    if (!okAfterFailure || okAfterFailure > at(failed + 1, 5))
      problems.push('no OK after the success that followed the failure');
    const slowNightStates = new Set(
      sim.timeline
        .filter((e) => e.t >= at(slowExport, 0) && e.t < at(slowExport + 1, 0))
        .map((e) => e.states.get(ALARM_NAMES.backupFailure)),
    );
    if (slowNightStates.has('ALARM'))
      problems.push('a night whose export ran 90 minutes longer raised KB-BackupFailure');
    if (problems.length > 0) throw new Error(problems.join('; '));
    const hoursToAlarm = (alarmAfterMiss! - lastSuccessBeforeMiss) / HOUR;
    log(
      `missed night: ALARM ${hoursToAlarm.toFixed(1)} h after the last recovery point (limit 26 h); failed night: ALARM within ${((alarmAfterFailure! - at(failed, 2, 40)) / 60_000).toFixed(0)} min; export 90 min slower: stayed OK`,
    );
    return { details: [], figures: { hoursToAlarmAfterMissedNight: hoursToAlarm } };
  },
};
