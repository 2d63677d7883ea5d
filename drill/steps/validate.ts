/**
 * Step 3: validate-backup on the night's backup (PASS), then break the backup by deleting an
 * exported object and validate again (FAIL, with the failing check named).
 */
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { exportObjectsPrefix, exportTaskIdFor } from '../../core/naming';
import { DRILL_BUCKET } from '../aws-world';
import { metricLines } from '../../harness/emf';
import type { DrillContext } from '../context';
import type { DrillStep } from '../runner';

interface ValidationResponse {
  readonly ok: boolean;
  readonly result?: 'PASS' | 'FAIL';
  readonly report?: readonly string[];
  readonly error?: string;
}

export const validateStep: DrillStep<DrillContext> = {
  id: 'validate',
  title: 'Validate the backup (PASS), break it, validate again (FAIL)',
  needs: ['night'],
  async run(ctx, log) {
    const world = ctx.aws!;
    const snapshotId = ctx.snapshotId!;
    const { result: good, emf: goodEmf } = await world.captureMetrics(
      () => world.handlers.validateBackup({ snapshotId: 'latest' }) as Promise<ValidationResponse>,
    );
    log(`validate-backup {"snapshotId":"latest"} → ${good.result}`);
    for (const line of good.report ?? []) log(`  ${line}`);
    if (good.result !== 'PASS')
      throw new Error(`a good backup did not validate: ${good.error ?? 'no report'}`);

    const listed = await world.s3.send(
      new ListObjectsV2Command({
        Bucket: DRILL_BUCKET,
        Prefix: exportObjectsPrefix(exportTaskIdFor(snapshotId)),
      }),
    );
    const victim = listed.Contents?.map((o) => o.Key).find((k) => k?.endsWith('.parquet'));
    if (!victim) throw new Error('no exported object to delete');
    await world.s3.send(new DeleteObjectCommand({ Bucket: DRILL_BUCKET, Key: victim }));
    log(`deleted s3://${DRILL_BUCKET}/${victim}`);

    const { result: broken, emf: brokenEmf } = await world.captureMetrics(
      () => world.handlers.validateBackup({ snapshotId }) as Promise<ValidationResponse>,
    );
    log(`validate-backup {"snapshotId":"${snapshotId}"} → ${broken.result}`);
    for (const line of (broken.report ?? []).filter((l) => l.startsWith('FAIL'))) log(`  ${line}`);
    if (broken.result !== 'FAIL') throw new Error('a backup with a deleted export object still validated');
    for (const m of metricLines([...goodEmf, ...brokenEmf])) log(`metric ${m}`);
    return { details: [], figures: {} };
  },
};
