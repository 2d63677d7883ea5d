import 'aws-sdk-client-mock-jest';
import { AddTagsToResourceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { phaseOf, restoreStatus } from '../../../lambda/restore-status/restore-status';
import {
  MANAGED_BY_TAG,
  PROTECTED_INSTANCE_TAG_KEY,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORE_AVAILABLE_AT_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
} from '../../../core/naming';
import { CONFIG, NOW, instanceNotFound, prodInstance } from '../../support/restore-fixtures';
import { recordingSink } from '../support/metrics';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'us-east-1' });
const STARTED = new Date(NOW.getTime() - 25 * 60_000);

function restored(status: string, extraTags: { Key: string; Value: string }[] = []) {
  return prodInstance({
    DBInstanceIdentifier: 'kb-restore-drill-1',
    DBInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:kb-restore-drill-1',
    DBInstanceStatus: status,
    Endpoint:
      status === 'available'
        ? { Address: 'kb-restore-drill-1.abc.rds.amazonaws.com', Port: 5432 }
        : undefined,
    TagList: [
      { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
      { Key: PROTECTED_INSTANCE_TAG_KEY, Value: 'kb-prod' },
      { Key: RESTORE_STARTED_AT_TAG_KEY, Value: STARTED.toISOString() },
      { Key: RESTORED_FROM_SNAPSHOT_TAG_KEY, Value: 'kb-snapshot-20261122-020000' },
      ...extraTags,
    ],
  });
}

function run(sink = recordingSink()) {
  return restoreStatus(
    { rds, config: CONFIG, metrics: sink, now: () => NOW },
    { targetInstanceId: 'kb-restore-drill-1' },
  );
}

describe('restoreStatus', () => {
  beforeEach(() => {
    rdsMock.reset();
    rdsMock.on(AddTagsToResourceCommand).resolves({});
  });

  it('reports a running restore with the RTO clock, no endpoint, and touches nothing', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restored('creating')] });
    const sink = recordingSink();
    const res = await run(sink);
    expect(res).toMatchObject({
      state: 'creating',
      phase: 'in-progress',
      elapsedSeconds: 1500,
      elapsed: '25m 0s',
      rto: { targetSeconds: 14400, remainingSeconds: 12900 },
      restoredFrom: { snapshotId: 'kb-snapshot-20261122-020000' },
    });
    expect(res.endpoint).toBeUndefined();
    expect(res.todo[0]).toMatch(/^wait: the instance is creating/);
    expect(rdsMock).toHaveReceivedCommandTimes(AddTagsToResourceCommand, 0);
    expect(sink.recorded()).toEqual([]);
  });

  it('records the first sighting of available once and emits RestoreDuration', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restored('available')] });
    const sink = recordingSink();
    const res = await run(sink);
    expect(rdsMock).toHaveReceivedCommandWith(AddTagsToResourceCommand, {
      ResourceName: 'arn:aws:rds:us-east-1:123456789012:db:kb-restore-drill-1',
      Tags: [{ Key: RESTORE_AVAILABLE_AT_TAG_KEY, Value: NOW.toISOString() }],
    });
    expect(sink.recorded()).toEqual([['RestoreDuration', 1500]]);
    expect(res).toMatchObject({
      phase: 'available',
      endpoint: { address: 'kb-restore-drill-1.abc.rds.amazonaws.com', port: 5432 },
      rto: { met: true },
      promoteEvent: {
        restoredInstanceId: 'kb-restore-drill-1',
        productionInstanceId: 'kb-prod',
        confirm: true,
        forceProduction: true,
      },
    });
    expect(res.todo.join('\n')).toMatch(/validate-backup \{"snapshotId":"kb-snapshot-20261122-020000"\}/);
  });

  it('freezes the clock at the recorded available time and does not emit again', async () => {
    const availableAt = new Date(STARTED.getTime() + 600_000);
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        restored('available', [{ Key: RESTORE_AVAILABLE_AT_TAG_KEY, Value: availableAt.toISOString() }]),
      ],
    });
    const sink = recordingSink();
    const res = await run(sink);
    expect(res.elapsedSeconds).toBe(600);
    expect(rdsMock).toHaveReceivedCommandTimes(AddTagsToResourceCommand, 0);
    expect(sink.recorded()).toEqual([]);
  });

  it('says what to do when the restore failed', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restored('incompatible-restore')] });
    const res = await run();
    expect(res.phase).toBe('failed');
    expect(res.todo[0]).toMatch(/describe-events/);
    expect(res.promoteEvent).toBeUndefined();
  });

  it('reports an unknown instance as not found', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(instanceNotFound());
    await expect(run()).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('still reports the status when the bookkeeping tag cannot be written, says so, and emits nothing', async () => {
    // Prepare
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [restored('available')] });
    rdsMock.on(AddTagsToResourceCommand).rejects(
      Object.assign(new Error('not authorized'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const sink = recordingSink();
    // Act
    const res = await run(sink);
    // Assess
    expect(res).toMatchObject({ ok: true, state: 'available', phase: 'available', elapsedSeconds: 1500 });
    expect(res.availableAt).toBeUndefined();
    expect(res.warnings?.[0]).toMatch(
      /could not write the tag kb-dr:restore-available-at .*AccessDenied.*RTO clock is not stopped.*RestoreDuration was not emitted.*rds:AddTagsToResource/,
    );
    expect(sink.recorded()).toEqual([]);
  });

  it('offers no promoteEvent for a hand-made kb-restore-* instance without kb-dr tags', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ ...restored('available'), TagList: [] }],
    });
    const res = await run();
    expect(res.phase).toBe('available');
    expect(res.promoteEvent).toBeUndefined();
    expect(res.todo.join('\n')).toMatch(/cannot be promoted/);
  });

  it('offers no promoteEvent for a restore of another instance, and promotes a second protected instance only into its own name', async () => {
    const other = restored('available');
    other.TagList = (other.TagList ?? []).map((t) =>
      t.Key === PROTECTED_INSTANCE_TAG_KEY ? { ...t, Value: 'kb-staging' } : t,
    );
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [other] });
    expect((await run()).promoteEvent).toBeUndefined();

    const second = restored('available');
    second.TagList = (second.TagList ?? []).map((t) =>
      t.Key === PROTECTED_INSTANCE_TAG_KEY ? { ...t, Value: 'kb-prod-replica' } : t,
    );
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [second] });
    expect((await run()).promoteEvent).toMatchObject({ productionInstanceId: 'kb-prod-replica' });
  });

  it('refuses an invalid or oversized id before any AWS call, echoing it truncated', async () => {
    const huge = `kb-restore-${'x'.repeat(100_000)}`;
    await expect(
      restoreStatus(
        { rds, config: CONFIG, metrics: recordingSink(), now: () => NOW },
        { targetInstanceId: huge },
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('(100011 characters)'),
    });
    const err = await restoreStatus(
      { rds, config: CONFIG, metrics: recordingSink(), now: () => NOW },
      { targetInstanceId: huge },
    ).catch((e: Error) => e);
    expect((err as Error).message.length).toBeLessThan(400);
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('classifies states', () => {
    expect(phaseOf('backing-up')).toBe('in-progress');
    expect(phaseOf('storage-full')).toBe('failed');
  });
});
