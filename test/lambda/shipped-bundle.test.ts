/**
 * The functions as they ship: bundled with KbFunction's esbuild choices (the AWS SDK from its ES
 * builds, tree-shaken; lib/constructs/kb-function-bundling.ts) and run in a fresh `node` against a
 * real moto_server, so the tree-shaken SDK is proven to serialize and parse the RDS (query) and
 * S3 (REST XML) calls the functions make, not only to load.
 */
import { execFileSync } from 'node:child_process';
import { DescribeDBSnapshotsCommand, DescribeExportTasksCommand } from '@aws-sdk/client-rds';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { exportTaskIdFor, snapshotIdFor } from '../../core/naming';
import type { MotoServer } from '../../harness/moto';
import { createProtectedInstance, pipelineEnv } from '../../harness/pipeline-world';
import { rdsSnapshotEvent } from '../../harness/rds-events';
import { clients } from '../support/moto-seed';
import { sharedMoto } from '../support/shared-services';
import { functionBundle } from './support/function-bundles';

let moto: MotoServer;

beforeAll(async () => {
  moto = await sharedMoto();
});

afterAll(async () => {
  await moto.stop();
});

describe('shipped bundles (SDK from its ES builds) on moto_server', () => {
  it('backup requests the night snapshot and reconcile starts its export', async () => {
    // Prepare
    const { rds, s3 } = clients(moto);
    const instance = `kb-shipped-${process.pid}`;
    const bucket = `kb-shipped-${process.pid}`;
    await createProtectedInstance(rds, instance);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const time = new Date(Date.now() - 60_000);
    time.setUTCMilliseconds(0);
    const snapshotId = snapshotIdFor(time);
    const [backup, reconcile] = [functionBundle('backup').out, functionBundle('reconcile').out];
    const script = `
      const backup = require(${JSON.stringify(backup)}), reconcile = require(${JSON.stringify(reconcile)});
      (async () => {
        const started = await backup.handler(${JSON.stringify({ source: 'kb-dr.schedule', time: time.toISOString() })});
        const created = await reconcile.handler(${JSON.stringify(rdsSnapshotEvent('RDS-EVENT-0042', snapshotId))});
        process.stdout.write('\\n@@' + JSON.stringify({ started, created }));
      })().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });`;

    // Act
    const stdout = execFileSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        ...moto.env,
        AWS_ENDPOINT_URL: moto.endpoint,
        POWERTOOLS_SERVICE_NAME: 'kb-shipped',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        NODE_NO_WARNINGS: '1',
        ...pipelineEnv(instance, bucket),
      },
    });

    // Assess: the answers, and the state they say they made, read back from moto
    const { started, created } = JSON.parse(stdout.slice(stdout.lastIndexOf('\n@@') + 3)) as {
      started: unknown;
      created: { outcomes: string[] };
    };
    expect(started).toEqual({ status: 'created', snapshotId });
    expect(created.outcomes).toEqual([`${snapshotId}: export-started`]);
    const snaps = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    expect(snaps.DBSnapshots?.[0]?.DBInstanceIdentifier).toBe(instance);
    const tasks = await rds.send(
      new DescribeExportTasksCommand({ ExportTaskIdentifier: exportTaskIdFor(snapshotId) }),
    );
    expect(tasks.ExportTasks?.[0]).toMatchObject({ S3Bucket: bucket, S3Prefix: 'exports' });
  });
});
