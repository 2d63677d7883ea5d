/**
 * The dump is understood by its structure: the Knowledge Base tables are identified exactly
 * (schema public) and counted with their partitions, whatever else the database holds.
 */
import { createLocalBackup } from '../../../cli/local/backup';
import { restoreLocalBackup } from '../../../cli/local/restore';
import { validateBackup } from '../../../cli/local/validate';
import { silentLogger } from '../../../cli/shared/logger';
import { connectionTo, tempDir } from '../../support/cli-fixtures';
import { createRealisticKb, realisticFingerprint } from '../../support/kb-realistic';
import { type TestPostgres } from '../../../harness/postgres';
import { useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;

useSharedPostgres((started) => {
  pg = started;
});

const yes = async () => true;

describe('backup, validate and restore of realistic Knowledge Bases', () => {
  it.each([
    ['a partitioned knowledge_entries (nested partitions)', { partitioned: true }],
    ['an UNLOGGED embedding_cache and a table comment holding a COPY line', { unlogged: true }],
    ['an archive.knowledge_entries beside public.knowledge_entries', { archiveRows: 5 }],
    ['a 1 MB entry, extensions, an enum, a trigger, views and foreign keys', { bigRowBytes: 1024 * 1024 }],
  ])('counts and restores %s exactly', async (_what, variant) => {
    // Prepare
    const db = `kb_s${Math.random().toString(36).slice(2, 8)}`;
    const entries = await createRealisticKb(pg, db, { entries: 1000, ...variant });
    const atBackup = await realisticFingerprint(pg, db);
    const dir = tempDir(pg, db);

    // Act
    const backup = await createLocalBackup({ conn: connectionTo(pg, db), dir, logger: silentLogger });
    const report = await validateBackup({ file: backup.path, logger: silentLogger });
    await pg.sql(db, 'DELETE FROM public.knowledge_entries WHERE id > 10');
    const result = await restoreLocalBackup({
      conn: connectionTo(pg, db),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
    });

    // Assess
    expect(backup.entryCount).toBe(entries);
    expect(backup.embeddingCacheCount).toBe(250);
    expect(report.valid).toBe(true);
    expect(report.entryCount).toBe(entries);
    expect(result.entriesRestored).toBe(entries);
    expect(await realisticFingerprint(pg, db)).toBe(atBackup);
  });
});
