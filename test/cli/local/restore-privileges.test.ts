/**
 * A restore gives the database back as it was, not just its rows: owners and grants, the
 * database's owner, encoding and collation provider, settings, ACL and comment; and refuses
 * before touching anything when the roles it needs do not exist (or drops them with --portable).
 */
import { ValidationError } from '../../../core/errors';
import { createLocalBackup } from '../../../cli/local/backup';
import { restoreLocalBackup } from '../../../cli/local/restore';
import { silentLogger } from '../../../cli/shared/logger';
import { connectionTo, tempDir } from '../../support/cli-fixtures';
import { KB_SCHEMA_SQL, kbFingerprint, seedSql, type TestPostgres } from '../../../harness/postgres';
import { useSharedPostgres } from '../../support/local-cluster';

let pg: TestPostgres;

useSharedPostgres((started) => {
  pg = started;
});

const yes = async () => true;

/** Owner, encoding, provider, collation, ICU locale, ACL entries, settings and comment of `db`. */
async function databaseShape(db: string): Promise<string> {
  return pg.sql(
    'postgres',
    `SELECT pg_get_userbyid(d.datdba) || ' ' || pg_encoding_to_char(d.encoding) || ' ' || d.datlocprovider::text || ' ' ||
            d.datcollate || ' ' || coalesce(d.daticulocale, '-') || ' | ' ||
            coalesce((SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ':' || a.privilege_type, ',' ORDER BY 1) FROM aclexplode(d.datacl) a), 'default') || ' | ' ||
            coalesce((SELECT string_agg(coalesce(r.rolname, '*') || '=' || array_to_string(s.setconfig, ';'), ',' ORDER BY 1)
                      FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole WHERE s.setdatabase = d.oid), '-') || ' | ' ||
            coalesce(shobj_description(d.oid, 'pg_database'), '-')
       FROM pg_database d WHERE d.datname = '${db}'`,
  );
}

async function backupOf(db: string) {
  return createLocalBackup({ conn: connectionTo(pg, db), dir: tempDir(pg, db), logger: silentLogger });
}

describe('restoreLocalBackup keeps what makes the database more than its rows', () => {
  it("keeps owners, the application role's grants, the database ACL, settings, comment and ICU collation", async () => {
    // Prepare: an owner role, an application role with grants, a locked-down ACL, settings.
    await pg.sql('postgres', 'CREATE ROLE kb_owner; CREATE ROLE kb_app LOGIN;');
    await pg.sql(
      'postgres',
      "CREATE DATABASE kb_priv OWNER kb_owner TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'",
    );
    await pg.sql(
      'postgres',
      `REVOKE ALL ON DATABASE kb_priv FROM PUBLIC; GRANT CONNECT ON DATABASE kb_priv TO kb_app;
       ALTER DATABASE kb_priv SET work_mem = '3MB'; ALTER DATABASE kb_priv SET search_path = "$user", public;
       ALTER ROLE kb_app IN DATABASE kb_priv SET statement_timeout = '5s';
       COMMENT ON DATABASE kb_priv IS 'the Knowledge Base';`,
    );
    await pg.sql(
      'kb_priv',
      `${KB_SCHEMA_SQL} ${seedSql(40)}
       ALTER TABLE knowledge_entries OWNER TO kb_owner; ALTER TABLE embedding_cache OWNER TO kb_owner;
       GRANT SELECT, INSERT ON knowledge_entries TO kb_app; GRANT USAGE ON SEQUENCE knowledge_entries_id_seq TO kb_app;`,
    );
    const shape = await databaseShape('kb_priv');
    const fingerprint = await kbFingerprint(pg, 'kb_priv');
    const backup = await backupOf('kb_priv');

    // Act
    await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_priv'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
    });

    // Assess
    expect(shape).toMatch(
      /^kb_owner UTF8 i .* en-US \| .*CONNECT.* \| .*work_mem=3MB.* \| the Knowledge Base$/,
    );
    expect(await databaseShape('kb_priv')).toBe(shape);
    expect(await kbFingerprint(pg, 'kb_priv')).toBe(fingerprint);
    expect(
      await pg.sql(
        'kb_priv',
        `SELECT pg_get_userbyid(relowner) || ' ' || has_table_privilege('kb_app', 'public.knowledge_entries', 'INSERT') || ' ' ||
                has_table_privilege('kb_app', 'public.embedding_cache', 'SELECT')
           FROM pg_class WHERE oid = 'public.knowledge_entries'::regclass`,
      ),
    ).toBe('kb_owner true false');
  });

  it('refuses, listing them, when the backup names roles this server lacks, and --portable restores it', async () => {
    // Prepare: a backup granting to a role that is then dropped.
    await pg.sql('postgres', 'CREATE ROLE kb_gone');
    await pg.sql('postgres', 'CREATE DATABASE kb_roles');
    await pg.sql('kb_roles', `${KB_SCHEMA_SQL} ${seedSql(20)} GRANT SELECT ON knowledge_entries TO kb_gone;`);
    const fingerprint = await kbFingerprint(pg, 'kb_roles');
    const backup = await backupOf('kb_roles');
    await pg.sql(
      'kb_roles',
      'REVOKE ALL ON knowledge_entries FROM kb_gone; DELETE FROM knowledge_entries WHERE id > 5',
    );
    await pg.sql('postgres', 'DROP ROLE kb_gone');
    const databasesBefore = await pg.databases();
    const confirm = jest.fn(yes);

    // Act + Assess: refused before anything is touched.
    const attempt = restoreLocalBackup({
      conn: connectionTo(pg, 'kb_roles'),
      file: backup.path,
      logger: silentLogger,
      confirm,
    });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow(
      /the backup gives objects to roles that do not exist on 127\.0\.0\.1:\d+: kb_gone; nothing was changed/,
    );
    expect(confirm).not.toHaveBeenCalled();
    expect(await pg.databases()).toEqual(databasesBefore);

    // Act + Assess: portable mode restores the rows, owned by the restoring user, without the grant.
    await restoreLocalBackup({
      conn: connectionTo(pg, 'kb_roles'),
      file: backup.path,
      logger: silentLogger,
      confirm: yes,
      portable: true,
    });
    expect(await kbFingerprint(pg, 'kb_roles')).toBe(fingerprint);
    expect(
      await pg.sql(
        'kb_roles',
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.knowledge_entries'::regclass",
      ),
    ).toBe('postgres');
  });
});
