/**
 * Step 4: restore the latest snapshot and a point in time to new kb-restore- instances, follow
 * restore-status to available, and show the guard rails refuse a time outside the PITR window and a
 * production target, changing nothing.
 */
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { DRILL_PROD_ID } from '../aws-world';
import { metricLines } from '../../harness/emf';
import type { DrillContext } from '../context';
import type { DrillStep } from '../runner';

interface Response {
  readonly ok: boolean;
  readonly error?: string;
  readonly hint?: string;
  readonly nothingChanged?: boolean;
  readonly [key: string]: unknown;
}

export const restoreStep: DrillStep<DrillContext> = {
  id: 'restore',
  title: 'Restore snapshot and point in time; refusals',
  needs: ['night'],
  async run(ctx, log) {
    const world = ctx.aws!;
    const h = world.handlers;
    const suffix = Date.now().toString(36);
    const instances = async (): Promise<string[]> =>
      ((await world.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [])
        .map((i) => i.DBInstanceIdentifier ?? '')
        .sort();
    const call = async (
      name: string,
      fn: (e: unknown) => Promise<unknown>,
      event: Record<string, unknown>,
    ) => {
      const { result, emf } = await world.captureMetrics(() => fn(event) as Promise<Response>);
      log(`${name} ${JSON.stringify(event)} → ${result.ok ? 'ok' : `refused: ${result.error}`}`);
      for (const m of metricLines(emf)) log(`  metric ${m}`);
      return result;
    };

    // 1. Latest snapshot to a new instance, followed to available.
    const snapTarget = `kb-restore-drill-${suffix}`;
    const t0 = performance.now();
    const started = await call('restore-snapshot', h.restoreSnapshot, {
      snapshotId: 'latest',
      targetInstanceId: snapTarget,
      confirm: true,
    });
    if (!started.ok) throw new Error(`restore-snapshot failed: ${started.error}`);
    const startSeconds = (performance.now() - t0) / 1000;
    const status = await call('restore-status', h.restoreStatus, { targetInstanceId: snapTarget });
    if (status.phase !== 'available')
      throw new Error(`restored instance is ${String(status.state)}, not available`);
    log(
      `  ${snapTarget}: ${String(status.state)}, endpoint ${JSON.stringify(status.endpoint)}, next: ${String((status.todo as string[] | undefined)?.[0] ?? '')}`,
    );

    // 2. A point in time inside the window.
    // moto's window runs from the instance's creation (seconds ago) to now: take the first whole
    // second inside it, waiting until LatestRestorableTime has passed it.
    const describeProd = async () =>
      (await world.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: DRILL_PROD_ID })))
        .DBInstances?.[0];
    const created = (await describeProd())?.InstanceCreateTime ?? new Date(Date.now() - 60_000);
    const inside = new Date(Math.ceil(created.getTime() / 1000) * 1000);
    for (
      let i = 0;
      i < 20 && ((await describeProd())?.LatestRestorableTime ?? new Date(0)) < inside;
      i += 1
    ) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const pitrTarget = `kb-restore-pitr-${suffix}`;
    const pitr = await call('restore-pitr', h.restorePitr, {
      targetTime: inside.toISOString(),
      targetInstanceId: pitrTarget,
      confirm: true,
    });
    if (!pitr.ok) throw new Error(`restore-pitr inside the window failed: ${pitr.error}`);
    const pitrStatus = await call('restore-status', h.restoreStatus, { targetInstanceId: pitrTarget });
    if (pitrStatus.phase !== 'available') throw new Error(`PITR instance is ${String(pitrStatus.state)}`);

    // 3. Refusals: outside the window, and a production target. Neither may create anything.
    const before = await instances();
    const outside = await call('restore-pitr', h.restorePitr, {
      targetTime: new Date(created.getTime() - 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      targetInstanceId: `kb-restore-pitr-old-${suffix}`,
      confirm: true,
    });
    const onProd = await call('restore-snapshot', h.restoreSnapshot, {
      snapshotId: 'latest',
      targetInstanceId: DRILL_PROD_ID,
      confirm: true,
    });
    const after = await instances();
    if (outside.ok || !/window/i.test(outside.error ?? ''))
      throw new Error('a time outside the PITR window was not refused');
    if (onProd.ok) throw new Error('a restore onto the production instance was not refused');
    if (after.join() !== before.join())
      throw new Error(`refused requests changed instances: ${after.join(', ')}`);
    log(`refusals changed nothing: instances still ${after.join(', ')}`);
    ctx.measured.rdsRestoreStartSeconds = startSeconds;
    return { details: [], figures: { restoreStartSeconds: startSeconds } };
  },
};
