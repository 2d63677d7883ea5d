/**
 * Step: the weekly restore test on the emulated data plane, with the real restore-test handler:
 * the schedule requests a test (moto), the emulated RDS restores the night's snapshot to the test
 * instance (real PostgreSQL), the "available" event finds no verification yet, the real
 * verify-restore logic checks the test instance as kb_verify over verified TLS (harness/verify-plane.ts,
 * as in the "Verify restored data" step) and writes the verification record, the event again reads
 * that record and records PASS with the measured times, deletes the instance, emits the metrics. Then a
 * test whose restored data is damaged FAILs, and its RestoreTestSuccess=0, replayed through the
 * synthesized alarms, raises KB-RestoreTestFailed (and the next pass clears it).
 */
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { Template } from 'aws-cdk-lib/assertions';
import { ALARM_NAMES } from '../../core/metrics-catalog';
import { restoreTestRecordKey } from '../../core/naming';
import { alarmsFromTemplate, simulate } from '../../harness/alarm-evaluator';
import { DAY, HOUR } from '../../harness/alarm-scenarios';
import { buildTestApp } from '../../harness/app';
import { captureEmf, metricLines } from '../../harness/emf';
import { withClient } from '../../harness/pg-cluster';
import { getManifest } from '../../lambda/shared/manifest-store';
import { getRestoreTestRecord } from '../../lambda/shared/restore-test-records';
import { DRILL_BUCKET, DRILL_FUNCTION_CONFIG } from '../aws-world';
import { startVerifiablePlane, type VerifiablePlane } from '../../harness/verify-plane';
import type { DrillContext } from '../context';
import type { DrillStep } from '../runner';

type Handler = (event: unknown) => Promise<unknown>;

export const restoreTestStep: DrillStep<DrillContext> = {
  id: 'restore-test',
  title: 'Weekly restore test on the emulated data plane; a failing test raises the alarm',
  needs: ['night'],
  async run(ctx, log) {
    const world = ctx.aws!;
    const snapshotId = ctx.snapshotId!;
    let vp: VerifiablePlane | undefined;
    try {
      // The protected instance holds what the night's backup holds: verify-restore compares the
      // restored counts with the ones that backup's manifest recorded.
      const manifest = await getManifest({ s3: world.s3, bucket: DRILL_BUCKET }, snapshotId);
      const recorded = manifest?.tableRowCounts;
      if (!recorded) throw new Error(`the manifest of ${snapshotId} records no table counts`);
      vp = await startVerifiablePlane({
        rds: world.rds,
        s3: world.s3,
        config: DRILL_FUNCTION_CONFIG,
        entries: ctx.options.entries,
        log,
      });
      const plane = vp.plane;
      const prod = plane.protectedInstance;
      const onPlane = await withClient(prod.port, prod.password, prod.database, async (c) => ({
        knowledge_entries: Number(
          (await c.query<{ n: string }>('SELECT count(*) AS n FROM knowledge_entries')).rows[0]?.n,
        ),
        embedding_cache: Number(
          (await c.query<{ n: string }>('SELECT count(*) AS n FROM embedding_cache')).rows[0]?.n,
        ),
      }));
      if (
        onPlane.knowledge_entries !== recorded.knowledge_entries ||
        onPlane.embedding_cache !== recorded.embedding_cache
      )
        throw new Error(
          `the emulated instance holds knowledge_entries ${onPlane.knowledge_entries}, embedding_cache ${onPlane.embedding_cache}, not the ${recorded.knowledge_entries}, ${recorded.embedding_cache} ${snapshotId} recorded: the drill's emulation is inconsistent`,
        );
      await plane.snapshot(snapshotId);
      log(
        `emulated RDS: ${snapshotId} holds knowledge_entries ${recorded.knowledge_entries}, embedding_cache ${recorded.embedding_cache}, as its manifest records`,
      );
      const handler = ((await import('../../lambda/restore-test/index')) as { handler: Handler }).handler;
      const call = async (event: Record<string, unknown>) => {
        const capture = captureEmf();
        try {
          const result = await handler(event);
          return { result, metrics: metricLines(capture.docs()), values: capture.values };
        } finally {
          capture.restore();
        }
      };
      const instanceEvent = (id: string) => ({
        source: 'aws.rds',
        'detail-type': 'RDS DB Instance Event',
        time: new Date().toISOString(),
        detail: { EventID: 'RDS-EVENT-0043', SourceIdentifier: id, Message: 'Restored from snapshot' },
      });

      const cycle = async (time: Date, damage: boolean) => {
        const started = await call({
          source: 'kb-dr.restore-test',
          action: 'start',
          time: time.toISOString(),
        });
        const { instanceId, action } = started.result as { instanceId: string; action: string };
        log(
          `schedule ${time.toISOString()} → ${action} ${instanceId} (restore requested, the function returned)`,
        );
        if (action !== 'started')
          throw new Error(`restore test not started: ${JSON.stringify(started.result)}`);
        const emulated = await plane.restoreSnapshot(snapshotId, instanceId);
        if (damage) {
          await withClient(emulated.port, emulated.password, emulated.database, (c) =>
            c.query(
              'DELETE FROM knowledge_entries WHERE id IN (SELECT id FROM knowledge_entries ORDER BY id LIMIT 25)',
            ),
          );
          log(`(damaged ${instanceId}: 25 entries deleted, as a bad restore would lose them)`);
        }
        const early = await call(instanceEvent(instanceId));
        log(
          `RDS "restored from snapshot" event → ${JSON.stringify((early.result as { results: unknown[] }).results)}`,
        );
        const verification = await vp!.verify({ targetInstanceId: instanceId });
        log(
          `verify-restore (real logic, emulated data plane) on ${instanceId}: ${verification.outcome}: ${verification.summary}`,
        );
        for (const line of verification.report) log(`  ${line}`);
        const done = await call(instanceEvent(instanceId));
        log(`RDS event again → ${JSON.stringify((done.result as { results: unknown[] }).results)}`);
        for (const m of done.metrics) log(`  metric ${m}`);
        await plane.stopInstance(instanceId);
        const record = await getRestoreTestRecord({ s3: world.s3, bucket: DRILL_BUCKET }, instanceId);
        if (!record) throw new Error(`no record at s3://${DRILL_BUCKET}/${restoreTestRecordKey(instanceId)}`);
        const gone = await world.rds
          .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }))
          .then(() => false)
          .catch(() => true);
        if (!gone) throw new Error(`${instanceId} was not deleted`);
        log(
          `record s3://${DRILL_BUCKET}/${restoreTestRecordKey(instanceId)}: ${record.outcome}, to available ${record.secondsToAvailable ?? '?'} s, to verified ${record.secondsToVerified ?? '?'} s, entries ${record.entries?.restored?.knowledge_entries ?? '?'} / ${record.entries?.backup?.knowledge_entries ?? '?'}; ${instanceId} deleted`,
        );
        return { record, success: done.values('RestoreTestSuccess') };
      };

      const t1 = new Date();
      t1.setUTCSeconds(0, 0);
      const good = await cycle(t1, false);
      const bad = await cycle(new Date(t1.getTime() + 7 * DAY), true);
      const problems: string[] = [];
      const expect = (ok: boolean, what: string) => void (ok || problems.push(what));
      expect(good.record.outcome === 'PASS', 'the first test did not PASS');
      expect(
        good.success.join() === '1',
        `the first test emitted RestoreTestSuccess ${good.success.join()}, not 1`,
      );
      expect(bad.record.outcome === 'FAIL', 'the damaged test did not FAIL');
      expect(
        bad.success.join() === '0',
        `the damaged test emitted RestoreTestSuccess ${bad.success.join()}, not 0`,
      );

      // The two outcomes a week apart (as the schedule would space them), then the next week's
      // pass, replayed through the synthesized alarm definitions.
      const { operations } = buildTestApp({ 'kb:dbInstanceId': 'kb-drill', 'aws:cdk:bundling-stacks': [] });
      const alarms = new Map(
        [...alarmsFromTemplate(Template.fromStack(operations).toJSON())].filter(
          ([, a]) => a.name === ALARM_NAMES.restoreTestFailed,
        ),
      );
      const w0 = Date.UTC(2026, 10, 4, 5);
      const series = new Map([
        [
          'RestoreTestSuccess',
          [
            { t: w0, value: good.success[0] ?? NaN },
            { t: w0 + 7 * DAY, value: bad.success[0] ?? NaN },
            { t: w0 + 14 * DAY, value: 1 },
          ],
        ],
      ]);
      const sim = simulate(alarms, series, w0 - HOUR, w0 + 15 * DAY);
      for (const c of sim.changes)
        log(`replay: day ${((c.t - w0) / DAY).toFixed(2)}: ${c.alarm} → ${c.state}`);
      const alarmAt = sim.firstTimeIn(ALARM_NAMES.restoreTestFailed, 'ALARM');
      expect(
        alarmAt !== undefined && alarmAt - (w0 + 7 * DAY) <= 10 * 60_000,
        'the failing test did not raise KB-RestoreTestFailed within 10 minutes',
      );
      expect(
        sim.stateAt(ALARM_NAMES.restoreTestFailed, w0 + 6 * DAY) === 'OK',
        'KB-RestoreTestFailed was not OK after the passing test',
      );
      expect(
        sim.stateAt(ALARM_NAMES.restoreTestFailed, w0 + 14 * DAY + HOUR) === 'OK',
        'KB-RestoreTestFailed did not clear after the next passing test',
      );
      if (problems.length > 0) throw new Error(problems.join('; '));
      const rto = good.record.secondsToVerified ?? 0;
      log(
        `measured RTO of this emulated restore test: ${rto} s (target 4 h = 14400 s); KB-RestoreTestFailed → ALARM for the failing test, OK after the next pass`,
      );
      return { details: [], figures: { restoreTestSecondsToVerified: rto } };
    } finally {
      await vp?.stop();
    }
  },
};
