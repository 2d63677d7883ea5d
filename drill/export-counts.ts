/**
 * The night's export, emulated with real data: moto's StartExportTask writes nothing, so the drill
 * writes what RDS would (Parquet of the Knowledge Base tables of the seeded PostgreSQL, and the
 * export_tables_info JSON, SSE-KMS, in RDS's layout) with harness/rds-export.ts, after counting the
 * rows the database holds at that moment (the snapshot's point in time: nothing writes to it in
 * between). The reconcile function then records the counts it reads from the Parquet footers, and
 * `compareRecordedCounts` checks them against the database's.
 */
import { Client } from 'pg';
import type { BackupManifest } from '../core/manifest';
import { exportS3Prefix } from '../core/naming';
import { exportTables, s3ObjectWriter } from '../harness/rds-export';
import type { TestPostgres } from '../harness/postgres';
import type { AwsWorld } from './aws-world';
import { DRILL_BUCKET, DRILL_KMS_KEY_ARN } from './aws-world';

export interface DatabaseCounts {
  readonly knowledge_entries: number;
  readonly embedding_cache: number;
}

/** Count the database's rows, then export its Knowledge Base tables as Parquet (emulation). */
export async function emulateExport(
  pg: TestPostgres,
  database: string,
  world: AwsWorld,
  taskId: string,
  log: (line: string) => void,
): Promise<DatabaseCounts> {
  const client = new Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database });
  await client.connect();
  try {
    const res = await client.query<{ e: string; c: string }>(
      'SELECT (SELECT count(*) FROM public.knowledge_entries) AS e, (SELECT count(*) FROM public.embedding_cache) AS c',
    );
    const counts = { knowledge_entries: Number(res.rows[0]?.e), embedding_cache: Number(res.rows[0]?.c) };
    const exported = await exportTables(client, {
      database,
      tables: ['public.knowledge_entries', 'public.embedding_cache'],
      taskId,
      prefix: exportS3Prefix(),
      sourceArn: `arn:aws:rds:us-east-1:123456789012:snapshot:${taskId}`,
      snapshotTime: new Date(),
      writeObject: s3ObjectWriter(world.s3, DRILL_BUCKET, DRILL_KMS_KEY_ARN),
    });
    log(
      `emulated RDS export ${taskId}: ${exported.tables.map((t) => `${t.target} ${t.rows} rows, ${t.bytes} bytes of Parquet`).join('; ')} (written from the seeded PostgreSQL: moto's export writes nothing)`,
    );
    log(
      `protected database at the snapshot: ${counts.knowledge_entries} knowledge_entries, ${counts.embedding_cache} embedding_cache rows`,
    );
    return counts;
  } finally {
    await client.end();
  }
}

/** Throws unless the manifest's counts (read from the Parquet footers) equal the database's. */
export function compareRecordedCounts(manifest: BackupManifest, db: DatabaseCounts): string {
  const recorded = manifest.tableRowCounts;
  if (!recorded)
    throw new Error(
      `the manifest recorded no row counts: ${manifest.tableRowCountsWarning ?? 'no warning either'}`,
    );
  const same =
    recorded.knowledge_entries === db.knowledge_entries && recorded.embedding_cache === db.embedding_cache;
  const line = `row counts from the export's Parquet footers: knowledge_entries ${recorded.knowledge_entries}, embedding_cache ${recorded.embedding_cache}; the database had ${db.knowledge_entries} and ${db.embedding_cache}`;
  if (!same) throw new Error(`${line}: they differ`);
  return `${line}: PASS, they match`;
}
