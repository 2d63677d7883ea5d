/**
 * The restore reads the backup file once: the load's own pass validates it, and the question is
 * asked after the load, with the verified counts, while the live database is still untouched.
 */
import type * as Fs from 'node:fs';
import { createLocalBackup } from '../../../cli/local/backup';
import { restoreLocalBackup } from '../../../cli/local/restore';
import { silentLogger } from '../../../cli/shared/logger';
import { connectionTo, tempDir } from '../../support/cli-fixtures';
import { createKbDatabase, kbFingerprint, type TestPostgres } from '../../../harness/postgres';
import { useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;

useSharedPostgres((started) => {
  pg = started;
});

// The module object itself (an `import * as` namespace is a copy a spy would not reach).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof Fs;

afterEach(() => jest.restoreAllMocks());

describe('restoreLocalBackup in one pass', () => {
  it('opens the backup file once, and asks after the load with the verified count, production untouched', async () => {
    // Prepare
    await createKbDatabase(pg, 'kb_once', 120);
    const backup = await createLocalBackup({
      conn: connectionTo(pg, 'kb_once'),
      dir: tempDir(pg, 'once'),
      logger: silentLogger,
      now: () => new Date('2026-11-22T01:00:00Z'),
    });
    await pg.sql('kb_once', 'DELETE FROM knowledge_entries WHERE id > 20');
    const live = await kbFingerprint(pg, 'kb_once');
    const opened = jest.spyOn(fs, 'createReadStream');
    const seenAtQuestion: { databases: string[]; live: string }[] = [];
    const confirm = jest.fn(async () => {
      seenAtQuestion.push({ databases: await pg.databases(), live: await kbFingerprint(pg, 'kb_once') });
      return true;
    });

    // Act
    const result = await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_once'),
      file: backup.path,
      logger: silentLogger,
      confirm,
    });

    // Assess: one read of the file (the old code read it twice: validation, then the load).
    const reads = opened.mock.calls.filter(([p]) => String(p) === backup.path);
    expect(reads).toHaveLength(1);
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(confirm).toHaveBeenCalledWith(expect.stringMatching(/\(120 entries, loaded and verified\)/));
    // At the question the scratch database is loaded and the live one is as it was.
    expect(seenAtQuestion[0]!.databases.some((d) => d.startsWith('kb_once_restoring_'))).toBe(true);
    expect(seenAtQuestion[0]!.live).toBe(live);
    expect(result.entriesRestored).toBe(120);
    expect(result.fileBytes).toBe(fs.statSync(backup.path).size);
    expect(result.sqlBytes).toBe(backup.sqlBytes);
  });

  it('drops the loaded scratch database when the operator says no, and changes nothing', async () => {
    await createKbDatabase(pg, 'kb_no_pass', 30);
    const backup = await createLocalBackup({
      conn: connectionTo(pg, 'kb_no_pass'),
      dir: tempDir(pg, 'nopass'),
      logger: silentLogger,
    });
    const before = await pg.databases();
    const live = await kbFingerprint(pg, 'kb_no_pass');

    await expect(
      restoreLocalBackup({
        conn: connectionTo(pg, 'kb_no_pass'),
        file: backup.path,
        logger: silentLogger,
        confirm: async () => false,
      }),
    ).rejects.toThrow(/restore cancelled; nothing was changed/);

    expect(await pg.databases()).toEqual(before);
    expect(await kbFingerprint(pg, 'kb_no_pass')).toBe(live);
  });
});
