/**
 * test/support/shared-services.ts: the worker's PostgreSQL cluster, handed from file to file, is
 * reset when the next file takes it over, so no file sees what the previous one left.
 */
import { sharedPostgres } from '../support/shared-services';

describe("the worker's shared PostgreSQL cluster", () => {
  it('is handed over with no database, role or ALTER SYSTEM setting of the previous user, even a role owning objects in template1', async () => {
    // Prepare: what a careless file leaves behind (names that need quoting, too)
    const pg = await sharedPostgres();
    await pg.sql('postgres', 'CREATE DATABASE "left ""over"""');
    await pg.sql('postgres', 'CREATE DATABASE owned');
    await pg.sql('postgres', 'CREATE ROLE "r""x" LOGIN');
    await pg.sql('owned', 'CREATE TABLE t (a int); ALTER TABLE t OWNER TO "r""x"');
    await pg.sql(
      'template1',
      'CREATE TABLE left_in_template (a int); ALTER TABLE left_in_template OWNER TO "r""x"',
    );
    await pg.sql('postgres', "ALTER SYSTEM SET work_mem = '7MB'");
    await pg.sql('postgres', 'SELECT pg_reload_conf()');
    await pg.stop();
    // Act: the next user takes the cluster over
    const next = await sharedPostgres();
    // Assess
    expect(next.port).toBe(pg.port); // the same cluster (test/global-setup.ts names the registry)
    expect(await next.databases()).toEqual(['postgres', 'template0', 'template1']);
    expect(await next.sql('postgres', "SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'")).toBe(
      next.user,
    );
    for (const db of ['postgres', 'template1'])
      expect(await next.sql(db, "SELECT count(*) FROM pg_class WHERE relname = 'left_in_template'")).toBe(
        '0',
      );
    expect(await next.sql('postgres', "SELECT setting FROM pg_file_settings WHERE name = 'work_mem'")).toBe(
      '',
    );
    await next.stop();
  });
});
