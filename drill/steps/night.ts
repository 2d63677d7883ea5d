/**
 * Step 2: one night on the emulated RDS with the real handlers: the scheduled backup, the RDS
 * events (snapshot created, export completed) routed to reconcile, a redelivered schedule event,
 * and the periodic pass; shows the KB metrics the handlers emitted.
 */
import { exportTaskIdFor, manifestKey, snapshotIdFor } from '../../core/naming';
import { DRILL_BUCKET, DRILL_PROD_ID, startAwsWorld } from '../aws-world';
import { KB_DATABASE } from '../context';
import { compareRecordedCounts, emulateExport } from '../export-counts';
import { metricLines } from '../../harness/emf';
import type { DrillContext } from '../context';
import type { DrillStep } from '../runner';
import { rdsSnapshotEvent } from '../../harness/rds-events';
import type { BackupEvent } from '../../lambda/backup/contract';
import { getManifest } from '../../lambda/shared/manifest-store';

export const nightStep: DrillStep<DrillContext> = {
  id: 'night',
  needs: ['seed'],
  title: 'A night on emulated RDS: snapshot, export, metrics',
  async run(ctx, log) {
    const world = await startAwsWorld();
    ctx.aws = world;
    ctx.moto = world.moto;
    log(`moto_server on ${world.moto.endpoint}; protected instance ${DRILL_PROD_ID}, bucket ${DRILL_BUCKET}`);
    const scheduled = new Date(Date.now() - 60_000);
    scheduled.setUTCSeconds(0, 0);
    const snapshotId = snapshotIdFor(scheduled);
    const event = { source: 'kb-dr.schedule', time: scheduled.toISOString() } satisfies BackupEvent;

    const { result: started, emf: backupEmf } = await world.captureMetrics(() =>
      world.handlers.backup(event),
    );
    log(`backup ${JSON.stringify(event)} → ${JSON.stringify(started)}`);
    const { result: again } = await world.captureMetrics(() => world.handlers.backup(event));
    log(`the same schedule event redelivered → ${JSON.stringify(again)} (nothing created twice)`);

    const { result: onCreated, emf: createdEmf } = await world.captureMetrics(() =>
      world.handlers.reconcile(rdsSnapshotEvent('RDS-EVENT-0042', snapshotId)),
    );
    log(`RDS-EVENT-0042 (snapshot created) → reconcile → ${JSON.stringify(onCreated)}`);

    // moto's export writes nothing and reports `complete` at once: write what RDS would (real
    // Parquet of the seeded database and export_tables_info, SSE-KMS with our key). Emulation.
    const taskId = exportTaskIdFor(snapshotId);
    const dbCounts = await emulateExport(ctx.pg!, KB_DATABASE, world, taskId, log);

    const { result: onCompleted, emf: completedEmf } = await world.captureMetrics(() =>
      world.handlers.reconcile(rdsSnapshotEvent('RDS-EVENT-0161', snapshotId)),
    );
    log(`RDS-EVENT-0161 (export completed) → reconcile → ${JSON.stringify(onCompleted)}`);
    const { result: pass, emf: passEmf } = await world.captureMetrics(() => world.handlers.reconcile({}));
    log(`periodic pass {} → ${JSON.stringify(pass)}`);

    const manifest = await getManifest({ s3: world.s3, bucket: DRILL_BUCKET }, snapshotId);
    if (manifest?.status !== 'SUCCEEDED') {
      throw new Error(`no SUCCEEDED manifest at s3://${DRILL_BUCKET}/${manifestKey(snapshotId)}`);
    }
    log(
      `manifest s3://${DRILL_BUCKET}/${manifestKey(snapshotId)}: ${manifest.status}, ${manifest.exportSizeBytes} bytes exported`,
    );
    const countsLine = compareRecordedCounts(manifest, dbCounts);
    const metrics = metricLines([...backupEmf, ...createdEmf, ...completedEmf, ...passEmf]);
    for (const m of metrics) log(`metric ${m}`);
    for (const required of [
      'KB/BackupSuccess=1',
      'KB/BackupFailure=0',
      'KB/TimeSinceLastBackup',
      `KB/KnowledgeEntries=${dbCounts.knowledge_entries}`,
      'KB/EntryCountDropFraction=0',
    ]) {
      if (!metrics.some((m) => m.startsWith(required)))
        throw new Error(`the handlers emitted no ${required}`);
    }
    ctx.snapshotId = snapshotId;
    return {
      details: [countsLine],
      figures: {
        exportSizeBytes: manifest.exportSizeBytes ?? 0,
        exportedKnowledgeEntries: manifest.tableRowCounts?.knowledge_entries ?? -1,
      },
    };
  },
};
