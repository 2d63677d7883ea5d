/**
 * Step: the restored data itself, on the emulated RDS data plane (real PostgreSQL behind moto's
 * endpoints; every such line says "emulated"). The restore functions create the instances in moto,
 * the data plane restores the base backup or replays WAL to T1, and verify-restore resolves the
 * endpoint from DescribeDBInstances and runs the data checks as the read-only kb_verify role over
 * TLS verified against a CA. Three outcomes must be seen: the snapshot restore has the counts the
 * backup recorded (PASS); the point-in-time restore to T1 has exactly the entries committed by T1
 * (PASS); a damaged restore (a table dropped before verification) FAILS with the figures.
 */
import { AddTagsToResourceCommand, CreateDBSnapshotCommand } from '@aws-sdk/client-rds';
import { MANAGED_BY_TAG, snapshotIdFor } from '../../core/naming';
import { putManifest } from '../../lambda/shared/manifest-store';
import type { VerifyRestoreResult } from '../../lambda/verify-restore/contract';
import { withClient } from '../../harness/pg-cluster';
import { DRILL_BUCKET, DRILL_FUNCTION_CONFIG, DRILL_KMS_KEY_ARN, DRILL_PROD_ID } from '../aws-world';
import { startVerifiablePlane, type VerifiablePlane } from '../../harness/verify-plane';
import type { DrillContext } from '../context';
import type { DrillStep } from '../runner';

export const verifyRestoreStep: DrillStep<DrillContext> = {
  id: 'verify-restore',
  title: 'Verify restored data (emulated RDS data plane): snapshot PASS, PITR to T1 exact, damaged FAIL',
  needs: ['night'],
  async run(ctx, log) {
    const world = ctx.aws!;
    const h = world.handlers;
    const suffix = Date.now().toString(36);
    let vp: VerifiablePlane | undefined;
    const details: string[] = [];
    try {
      vp = await startVerifiablePlane({
        rds: world.rds,
        s3: world.s3,
        config: DRILL_FUNCTION_CONFIG,
        entries: ctx.options.entries,
        log,
      });
      const v = vp;
      const p = v.plane;
      const prod = p.protectedInstance;
      const onProd = (text: string) =>
        withClient(prod.port, prod.password, prod.database, (c) => c.query(text));

      // The backup: a kb-dr snapshot in moto, its manifest with the counts, a base backup.
      const counts = (
        await onProd(
          'SELECT (SELECT count(*) FROM knowledge_entries)::int AS e, (SELECT count(*) FROM embedding_cache)::int AS c',
        )
      ).rows[0] as { e: number; c: number };
      const snapshotId = snapshotIdFor(new Date(Date.now() - 3_600_000));
      const snap = await world.rds.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: DRILL_PROD_ID,
          DBSnapshotIdentifier: snapshotId,
        }),
      );
      await world.rds.send(
        new AddTagsToResourceCommand({
          ResourceName: snap.DBSnapshot?.DBSnapshotArn,
          Tags: [{ Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value }],
        }),
      );
      const at = new Date().toISOString();
      await putManifest(
        { s3: world.s3, bucket: DRILL_BUCKET, kmsKeyArn: DRILL_KMS_KEY_ARN },
        {
          version: 1,
          snapshotId,
          dbInstanceId: DRILL_PROD_ID,
          trigger: 'on-demand',
          status: 'SUCCEEDED',
          requestedAt: at,
          // Written here as the pipeline records them from the export's Parquet footers.
          tableRowCounts: {
            knowledge_entries: counts.e,
            embedding_cache: counts.c,
            source: 'parquet-footers',
          },
          recordedAt: at,
        },
      );
      await p.snapshot(snapshotId);
      log(
        `backup ${snapshotId}: manifest records knowledge_entries ${counts.e}, embedding_cache ${counts.c}`,
      );

      const show = (what: string, r: VerifyRestoreResult): void => {
        const head = `${what}: verify-restore ${r.outcome}: ${r.summary}`;
        log(head);
        details.push(head);
        for (const line of r.report) log(`  ${line}`);
      };
      const restoreSnapshot = async (target: string) => {
        const res = (await h.restoreSnapshot({ snapshotId, targetInstanceId: target, confirm: true })) as {
          ok: boolean;
          error?: string;
        };
        if (!res.ok) throw new Error(`restore-snapshot ${target}: ${res.error}`);
        await p.restoreSnapshot(snapshotId, target);
      };

      // 1. Snapshot restore: the counts the backup recorded.
      const snapTarget = `kb-restore-verify-${suffix}`;
      await restoreSnapshot(snapTarget);
      const snapResult = await v.verify({ targetInstanceId: snapTarget });
      show('snapshot restore (emulated data plane)', snapResult);
      if (snapResult.outcome !== 'PASS')
        throw new Error(`snapshot restore verification: ${snapResult.summary}`);

      // 2. PITR to T1: batch A before T1, batch B after; exactly the entries committed by T1.
      await onProd(
        `INSERT INTO knowledge_entries (title, body) SELECT 'Batch A ' || g, 'before T1' FROM generate_series(1, 100) g`,
      );
      const t1 = new Date(Date.now() + 50);
      await new Promise((r) => setTimeout(r, 120));
      await onProd(
        `INSERT INTO knowledge_entries (title, body) SELECT 'Batch B ' || g, 'after T1' FROM generate_series(1, 100) g`,
      );
      const pitrTarget = `kb-restore-verify-t1-${suffix}`;
      const pitr = (await h.restorePitr({
        targetTime: t1.toISOString(),
        targetInstanceId: pitrTarget,
        confirm: true,
      })) as {
        ok: boolean;
        error?: string;
      };
      if (!pitr.ok) throw new Error(`restore-pitr to T1: ${pitr.error}`);
      await p.restoreToPointInTime(t1, pitrTarget);
      const pitrResult = await v.verify({
        targetInstanceId: pitrTarget,
        expectedEntries: counts.e + 100,
      });
      show(`point-in-time restore to T1 ${t1.toISOString()} (emulated WAL replay)`, pitrResult);
      const i = p.instance(pitrTarget);
      const batches = await withClient(
        i.port,
        i.password,
        i.database,
        async (c) =>
          (
            await c.query<{ body: string; n: number }>(
              `SELECT body, count(*)::int AS n FROM knowledge_entries WHERE title LIKE 'Batch %' GROUP BY body ORDER BY body`,
            )
          ).rows,
      );
      const batchLine = `restored to T1: ${batches.map((b) => `${b.n} entries "${b.body}"`).join(', ') || 'no batch entries'} (expected 100 "before T1", none "after T1")`;
      log(batchLine);
      details.push(batchLine);
      if (
        pitrResult.outcome !== 'PASS' ||
        batches.length !== 1 ||
        batches[0]?.body !== 'before T1' ||
        batches[0]?.n !== 100
      )
        throw new Error(`point-in-time restore to T1 is not exact: ${pitrResult.summary}; ${batchLine}`);

      // 3. A damaged restore: embedding_cache dropped before verification must FAIL with figures.
      const damaged = `kb-restore-verify-dmg-${suffix}`;
      await restoreSnapshot(damaged);
      await withClient(p.instance(damaged).port, prod.password, prod.database, (c) =>
        c.query('DROP TABLE embedding_cache'),
      );
      log(`emulated RDS: dropped embedding_cache on ${damaged} before verification (deliberate damage)`);
      const damagedResult = await v.verify({ targetInstanceId: damaged });
      show('damaged restore (emulated data plane)', damagedResult);
      if (damagedResult.outcome !== 'FAIL') throw new Error('the damaged restore was not reported FAIL');
      log(
        `metrics RestoreVerification: ${v.metrics.map(([, value]) => value).join(', ')} (1 per PASS, 0 per FAIL)`,
      );
      return {
        details,
        figures: { verifiedEntries: snapResult.record?.entries?.knowledge_entries ?? 0 },
      };
    } finally {
      await vp?.stop();
    }
  },
};
