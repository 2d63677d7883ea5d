/**
 * Scenario time series for the restore-test alarms, following the restore-test function's
 * emission rules (lambda/restore-test/restore-test.ts):
 * - a recorded test emits RestoreTestSuccess 1/0 once, and RestoreTestDuration when it was verified;
 * - a failed deletion emits RestoreTestOrphans 1 at once, and every pass emits the orphan count;
 * - every pass (each 30 minutes) emits HoursSinceLastRestoreTest: hours since the newest passed
 *   test was verified, or the sentinel while none has passed.
 * Used by the alarm test and the drill. Never imports jest.
 */
import { NO_SUCCESSFUL_TEST_HOURS } from '../lambda/restore-test/restore-test';
import type { Datapoint } from './alarm-evaluator';
import { DAY, HOUR, START } from './alarm-scenarios';

const MINUTE = 60_000;
const PASS = 30 * MINUTE;

/**
 * What happens to week `w`'s test (requested on day 7w + 2, 04:00 UTC):
 * `pass`, `fail` (verification FAIL, recorded 1 h later), `missed` (no test: schedule off or
 * skipped), `orphan` (passes, but its instance cannot be deleted until `orphanHours` later).
 */
export type Week = 'pass' | 'fail' | 'missed' | 'orphan';

export interface RestoreTestScenario {
  readonly days: number;
  /** @default pass */
  readonly week?: (w: number) => Week;
  /** Hours from request to verified. @default 1 */
  readonly hoursToVerified?: number;
  /** Hours an orphaned instance stays before someone deletes it. @default 5 */
  readonly orphanHours?: number;
  /** When the last success before the scenario was verified, or null for none. @default 5 days before START */
  readonly priorSuccess?: number | null;
  /** Nothing at all is emitted in [from, to) (the function or its schedule stopped). */
  readonly silence?: { readonly from: number; readonly to: number };
  /** The pass runs at all (false: a deployment whose function never runs). @default true */
  readonly passes?: boolean;
}

/** Request time of week `w`'s test. */
export const testRequestedAt = (w: number): number => START + (7 * w + 2) * DAY + 4 * HOUR;

/** The datapoints the restore-test function emits for `scenario`, per metric name. */
export function restoreTestEmitted(scenario: RestoreTestScenario): Map<string, Datapoint[]> {
  const series = new Map<string, Datapoint[]>();
  const end = START + scenario.days * DAY;
  const silent = (t: number) =>
    scenario.silence !== undefined && t >= scenario.silence.from && t < scenario.silence.to;
  const put = (name: string, t: number, value: number) => {
    if (silent(t) || t < START || t >= end) return;
    series.set(name, [...(series.get(name) ?? []), { t, value }]);
  };
  const verifyMs = (scenario.hoursToVerified ?? 1) * HOUR;
  const passes: number[] = scenario.priorSuccess === null ? [] : [scenario.priorSuccess ?? START - 5 * DAY];
  const orphans: { from: number; to: number }[] = [];
  for (let w = 0; testRequestedAt(w) < end; w += 1) {
    const kind = scenario.week?.(w) ?? 'pass';
    const requested = testRequestedAt(w);
    if (kind === 'missed' || silent(requested)) continue;
    const recorded = requested + verifyMs;
    put('RestoreTestSuccess', recorded, kind === 'fail' ? 0 : 1);
    put('RestoreTestDuration', recorded, verifyMs / 1000);
    if (kind !== 'fail') passes.push(recorded);
    if (kind === 'orphan') {
      put('RestoreTestOrphans', recorded, 1);
      orphans.push({ from: recorded, to: recorded + (scenario.orphanHours ?? 5) * HOUR });
    }
  }
  if (scenario.passes !== false) {
    for (let t = START; t < end; t += PASS) {
      const newest = passes
        .filter((p) => p <= t)
        .reduce<number | undefined>((m, p) => Math.max(m ?? -Infinity, p), undefined);
      put(
        'HoursSinceLastRestoreTest',
        t,
        newest === undefined ? NO_SUCCESSFUL_TEST_HOURS : (t - newest) / HOUR,
      );
      put('RestoreTestOrphans', t, orphans.filter((o) => o.from <= t && t < o.to).length);
    }
  }
  for (const list of series.values()) list.sort((a, b) => a.t - b.t);
  return series;
}
