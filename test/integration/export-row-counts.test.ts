/**
 * Row counts from a completed export's Parquet footers, on moto S3 with real Parquet written from
 * a real PostgreSQL (harness/rds-export.ts), and through the real backup and reconcile handlers
 * over two nights (KnowledgeEntries, EntryCountDropFraction). Hostile exports too: a truncated
 * file, a non-Parquet object named .parquet, a table missing, no export_tables_info.
 */
import { RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BackupManifest } from '../../core/manifest';
import { exportObjectsPrefix, exportTaskIdFor, manifestKey, snapshotIdFor } from '../../core/naming';
import {
  emitEntryCountMetrics,
  entryCountDropFraction,
  rowCountFields,
} from '../../lambda/reconcile/export-row-counts';
import type { PipelineConfig, PipelineDeps } from '../../lambda/shared/backup-pipeline';
import { createLogger, createMetrics, type KbMetricStore } from '../../lambda/shared/powertools';
import { captureEmf, enableEmf, type EmfCapture } from '../../harness/emf';
import type { MotoServer } from '../../harness/moto';
import { createProtectedInstance, pipelineEnv } from '../../harness/pipeline-world';
import { createKbDatabase, type TestPostgres } from '../../harness/postgres';
import { rdsSnapshotEvent } from '../../harness/rds-events';
import { loadPipelineHandlers } from '../support/pipeline-handlers';
import { putNotParquet, TEST_KEY_ARN, truncateObject, writeRealExport } from '../support/export-fixtures';
import { sharedMoto, sharedPostgres } from '../support/shared-services';

let moto: MotoServer;
let pg: TestPostgres;
let s3: S3Client;
let emf: EmfCapture;
let counter = 0;
/** Every GetObject the functions' S3 client sent: key and Range. */
const gets: { key: string; range?: string }[] = [];

beforeAll(async () => {
  [moto, pg] = await Promise.all([sharedMoto({ applyToProcessEnv: true }), sharedPostgres()]);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  enableEmf();
  s3 = new S3Client({ forcePathStyle: true });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') {
        const input = args.input as { Key?: string; Range?: string };
        gets.push({ key: input.Key ?? '', ...(input.Range ? { range: input.Range } : {}) });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordGets' },
  );
  // Two KB databases: 300 entries (75 cache rows) and an empty one.
  await createKbDatabase(pg, 'kb_counts', 300);
  await createKbDatabase(pg, 'kb_empty', 0);
}, 120_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), pg?.stop()]);
});

beforeEach(() => {
  emf = captureEmf();
  gets.length = 0;
});
afterEach(() => emf.restore());

async function newBucket(): Promise<{ bucket: string; config: PipelineConfig; deps: PipelineDeps }> {
  counter += 1;
  const bucket = `kb-rc-${process.pid}-${counter}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const config: PipelineConfig = {
    dbInstanceId: 'kb-prod',
    backupBucket: bucket,
    exportRoleArn: 'arn:aws:iam::123456789012:role/kb-dr-export',
    kmsKeyArn: TEST_KEY_ARN,
    retentionDays: 30,
  };
  const deps: PipelineDeps = {
    rds: new RDSClient({}),
    s3,
    logger: createLogger('kb-rc-test'),
    metrics: createMetrics('kb-rc-test', 'kb-prod'),
    now: () => new Date(),
  };
  return { bucket, config, deps };
}

const TASK = 'kb-export-20261122-020000';

describe('rowCountFields: counts from the Parquet footers of a real export', () => {
  it('records knowledge_entries and embedding_cache as PostgreSQL had them, with ranged GETs only', async () => {
    const { bucket, config, deps } = await newBucket();
    const written = await writeRealExport(pg, 'kb_counts', s3, bucket, TASK);
    expect(written.tables.map((t) => t.rows)).toEqual([300, 75]);

    const fields = await rowCountFields(deps, config, TASK);

    expect(fields).toEqual({
      tableRowCounts: { knowledge_entries: 300, embedding_cache: 75, source: 'parquet-footers' },
    });
    const parquetGets = gets.filter((g) => g.key.endsWith('.parquet'));
    expect(parquetGets.length).toBeGreaterThanOrEqual(2);
    // Never a whole-object read: every Parquet GET is a byte range.
    expect(parquetGets.filter((g) => g.range === undefined)).toEqual([]);
    // The JSON table list is read whole (it is small); the export_info file is not read at all.
    expect(gets.filter((g) => /export_info_/.test(g.key))).toEqual([]);
  });

  it('records 0 and 0 for an empty Knowledge Base', async () => {
    const { bucket, config, deps } = await newBucket();
    await writeRealExport(pg, 'kb_empty', s3, bucket, TASK);
    expect(await rowCountFields(deps, config, TASK)).toEqual({
      tableRowCounts: { knowledge_entries: 0, embedding_cache: 0, source: 'parquet-footers' },
    });
  });

  it('records no counts, and says which table is absent, when the export lacks embedding_cache', async () => {
    const { bucket, config, deps } = await newBucket();
    await writeRealExport(pg, 'kb_counts', s3, bucket, TASK, ['public.knowledge_entries']);
    const warn = jest.spyOn(deps.logger, 'warn');

    const fields = await rowCountFields(deps, config, TASK);

    expect(fields.tableRowCounts).toBeUndefined();
    expect(fields.tableRowCountsWarning).toMatch(
      /^row counts not recorded: public\.embedding_cache absent: .*not in the export.*\(read: knowledge_entries 300 rows\)$/,
    );
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('could not be counted'),
      expect.objectContaining({ tableRowCountsWarning: fields.tableRowCountsWarning }),
    );
  });

  it('records no counts for a truncated Parquet file, naming it', async () => {
    const { bucket, config, deps } = await newBucket();
    const written = await writeRealExport(pg, 'kb_counts', s3, bucket, TASK);
    const entriesKey = written.tables[0]!.key;
    await truncateObject(s3, bucket, entriesKey);

    const fields = await rowCountFields(deps, config, TASK);

    expect(fields.tableRowCounts).toBeUndefined();
    expect(fields.tableRowCountsWarning).toContain(
      `1 of 1 Parquet file(s) of kb_counts.public.knowledge_entries unreadable, e.g. ${entriesKey}`,
    );
    expect(fields.tableRowCountsWarning).toContain('(read: embedding_cache 75 rows)');
  });

  it('records no counts when an object named .parquet in a Knowledge Base table is not Parquet', async () => {
    const { bucket, config, deps } = await newBucket();
    await writeRealExport(pg, 'kb_counts', s3, bucket, TASK);
    const bogus = `${exportObjectsPrefix(TASK)}kb_counts/public.embedding_cache/2/part-00001-x.gz.parquet`;
    await putNotParquet(s3, bucket, bogus);

    const fields = await rowCountFields(deps, config, TASK);

    expect(fields.tableRowCounts).toBeUndefined();
    expect(fields.tableRowCountsWarning).toMatch(
      /1 of 2 Parquet file\(s\) of kb_counts\.public\.embedding_cache unreadable/,
    );
    expect(fields.tableRowCountsWarning).toContain(bogus);
  });

  it('does not count a look-alike table (public.knowledge_entries_archive) as the Knowledge Base', async () => {
    const { bucket, config, deps } = await newBucket();
    await writeRealExport(pg, 'kb_counts', s3, bucket, TASK);
    await putNotParquet(
      s3,
      bucket,
      `${exportObjectsPrefix(TASK)}kb_counts/public.knowledge_entries_archive/1/part-00000-y.gz.parquet`,
    );
    expect((await rowCountFields(deps, config, TASK)).tableRowCounts).toEqual({
      knowledge_entries: 300,
      embedding_cache: 75,
      source: 'parquet-footers',
    });
  });

  it('records no counts when the export has no export_tables_info, reading no Parquet at all', async () => {
    const { bucket, config, deps } = await newBucket();
    const written = await writeRealExport(pg, 'kb_counts', s3, bucket, TASK);
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    for (const key of written.keys.filter((k) => k.includes('export_tables_info_')))
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

    const fields = await rowCountFields(deps, config, TASK);

    expect(fields).toEqual({
      tableRowCountsWarning: expect.stringMatching(
        /^row counts not recorded: no export_tables_info_\*\.json under/,
      ),
    });
    expect(gets.filter((g) => g.key.endsWith('.parquet'))).toEqual([]);
  });
});

describe('entryCountDropFraction', () => {
  it.each([
    [1000, 800, 0.2],
    [1000, 799, 0.201],
    [1000, 0, 1],
    [1000, 1500, 0],
    [0, 0, 0],
    [0, 10, 0],
    [100_000, 80_000, 0.2],
  ])('%i -> %i entries is a drop of %d', (before, after, fraction) => {
    expect(entryCountDropFraction(before, after)).toBe(fraction);
  });
});

describe('the real handlers over two nights (moto RDS and S3, real Parquet)', () => {
  async function readManifest(bucket: string, snapshotId: string): Promise<BackupManifest> {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(snapshotId) }));
    return JSON.parse(await res.Body!.transformToString()) as BackupManifest;
  }

  it('records the counts in each manifest and emits KnowledgeEntries and the drop since the night before', async () => {
    counter += 1;
    const instance = `kb-rc-${process.pid}-${counter}`;
    const bucket = `kb-rc-nights-${process.pid}-${counter}`;
    await createProtectedInstance(new RDSClient({}), instance);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    Object.assign(process.env, pipelineEnv(instance, bucket));
    const { backup, reconcile } = loadPipelineHandlers();
    await createKbDatabase(pg, 'kb_nights', 400);

    const night = async (time: Date): Promise<string> => {
      const snapshotId = snapshotIdFor(time);
      await backup({ source: 'kb-dr.schedule', time: time.toISOString() });
      await reconcile(rdsSnapshotEvent('RDS-EVENT-0042', snapshotId));
      // moto's export writes nothing: write what RDS would, from the database as it is now.
      await writeRealExport(pg, 'kb_nights', s3, bucket, exportTaskIdFor(snapshotId));
      await reconcile(rdsSnapshotEvent('RDS-EVENT-0161', snapshotId));
      return snapshotId;
    };
    const base = Math.floor(Date.now() / 1000) * 1000;

    const first = await night(new Date(base - 2 * 60_000));
    await pg.sql('kb_nights', 'DELETE FROM knowledge_entries WHERE id % 5 <> 0'); // 400 -> 80
    const second = await night(new Date(base - 60_000));

    expect((await readManifest(bucket, first)).tableRowCounts).toEqual({
      knowledge_entries: 400,
      embedding_cache: 100,
      source: 'parquet-footers',
    });
    expect((await readManifest(bucket, second)).tableRowCounts).toEqual({
      knowledge_entries: 80,
      embedding_cache: 100,
      source: 'parquet-footers',
    });
    expect(emf.values('KnowledgeEntries')).toEqual([400, 80]);
    expect(emf.values('EntryCountDropFraction')).toEqual([0, 0.8]);
    expect(emf.values('BackupSuccess')).toEqual([1, 1]);
  }, 60_000);

  it('emits nothing for a backup recorded late, after a newer one', async () => {
    const { bucket, config, deps } = await newBucket();
    const manifest = (id: string, entries: number): BackupManifest => ({
      version: 1,
      snapshotId: id,
      dbInstanceId: 'kb-prod',
      trigger: 'scheduled',
      status: 'SUCCEEDED',
      requestedAt: new Date().toISOString(),
      tableRowCounts: { knowledge_entries: entries, embedding_cache: 0, source: 'parquet-footers' },
      recordedAt: new Date().toISOString(),
    });
    const { putManifest } = await import('../../lambda/shared/manifest-store');
    const loc = { s3, bucket, kmsKeyArn: TEST_KEY_ARN };
    await putManifest(loc, manifest('kb-snapshot-20261120-020000', 1000));
    await putManifest(loc, manifest('kb-snapshot-20261122-020000', 1000));
    const late = manifest('kb-snapshot-20261121-020000', 10);
    await putManifest(loc, late);

    await emitEntryCountMetrics(deps, config, late);
    expect((deps.metrics as KbMetricStore).hasStoredMetrics()).toBe(false);

    expect(emf.values('EntryCountDropFraction')).toEqual([]);
    expect(emf.values('KnowledgeEntries')).toEqual([]);
  });
});
