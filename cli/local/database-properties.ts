/**
 * What makes a database more than its contents: owner, encoding, locale provider and collation,
 * `ALTER DATABASE ... SET` and per-role settings, ACL. A restore reads them from the database it
 * replaces and gives them to the new one, so the restored database behaves like the old one
 * (sort order, the application role's CONNECT, its settings).
 */
import { quoteIdent, quoteLiteral } from './connection';

export interface DatabaseAclEntry {
  /** null: PUBLIC. */
  readonly grantee: string | null;
  readonly privilege: string;
  readonly grantable: boolean;
}

export interface DatabaseSetting {
  /** null: for every role (`ALTER DATABASE ... SET`). */
  readonly role: string | null;
  readonly config: readonly string[];
}

export interface DatabaseProperties {
  readonly owner: string;
  readonly encoding: string;
  /** `c` libc, `i` ICU. */
  readonly provider: string;
  readonly collate: string;
  readonly ctype: string;
  readonly iculocale: string | null;
  /** Explicit ACL entries; null when the database has the default ACL. */
  readonly acl: readonly DatabaseAclEntry[] | null;
  readonly settings: readonly DatabaseSetting[];
}

/** Settings whose stored value is already a SQL list (`"$user", public`), as pg_dump treats them. */
const LIST_SETTINGS = new Set([
  'search_path',
  'temp_tablespaces',
  'session_preload_libraries',
  'shared_preload_libraries',
  'local_preload_libraries',
]);

/**
 * SQL: the properties of the pg_database row `d` as a json object ({@link DatabaseProperties}),
 * for a query on the maintenance database that names pg_database `d` (e.g. databases.ts
 * lookBeforeRestore, which reads them with everything else a restore needs in one query).
 */
export function databasePropertiesJson(d: string): string {
  return `json_build_object(
       'owner', pg_get_userbyid(${d}.datdba),
       'encoding', pg_encoding_to_char(${d}.encoding),
       'provider', ${d}.datlocprovider::text,
       'collate', ${d}.datcollate,
       'ctype', ${d}.datctype,
       'iculocale', ${d}.daticulocale,
       'acl', CASE WHEN ${d}.datacl IS NULL THEN NULL ELSE coalesce((SELECT json_agg(json_build_object(
                'grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
                'privilege', a.privilege_type, 'grantable', a.is_grantable)) FROM aclexplode(${d}.datacl) a), '[]'::json) END,
       'settings', coalesce((SELECT json_agg(json_build_object('role', r.rolname, 'config', s.setconfig))
                  FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
                  WHERE s.setdatabase = ${d}.oid), '[]'::json))`;
}

/** `CREATE DATABASE` options reproducing encoding, locale provider and collation (and owner). */
export function createOptions(props: DatabaseProperties, withOwner: boolean): string {
  const parts = [
    `ENCODING ${quoteLiteral(props.encoding)}`,
    `LOCALE_PROVIDER ${props.provider === 'i' ? 'icu' : 'libc'}`,
    `LC_COLLATE ${quoteLiteral(props.collate)}`,
    `LC_CTYPE ${quoteLiteral(props.ctype)}`,
  ];
  if (props.provider === 'i' && props.iculocale) parts.push(`ICU_LOCALE ${quoteLiteral(props.iculocale)}`);
  if (withOwner) parts.push(`OWNER ${quoteIdent(props.owner)}`);
  return parts.join(' ');
}

function setStatement(prefix: string, entry: string): string {
  const eq = entry.indexOf('=');
  const name = entry.slice(0, eq);
  const value = entry.slice(eq + 1);
  return `${prefix} SET ${quoteIdent(name)} = ${LIST_SETTINGS.has(name) ? value : quoteLiteral(value)};`;
}

/**
 * SQL giving `database` the settings and ACL in `props`. `portable` keeps only the settings for
 * every role (per-role settings and the ACL name roles that may not exist on another server).
 */
export function applyPropertiesSql(database: string, props: DatabaseProperties, portable: boolean): string {
  const db = quoteIdent(database);
  const sql: string[] = [];
  for (const s of props.settings) {
    if (s.role !== null && portable) continue;
    const prefix =
      s.role === null ? `ALTER DATABASE ${db}` : `ALTER ROLE ${quoteIdent(s.role)} IN DATABASE ${db}`;
    for (const entry of s.config) sql.push(setStatement(prefix, entry));
  }
  if (props.acl !== null && !portable) {
    sql.push(
      `REVOKE ALL ON DATABASE ${db} FROM PUBLIC;`,
      `REVOKE ALL ON DATABASE ${db} FROM ${quoteIdent(props.owner)};`,
    );
    for (const a of props.acl) {
      const grantee = a.grantee === null ? 'PUBLIC' : quoteIdent(a.grantee);
      sql.push(
        `GRANT ${a.privilege} ON DATABASE ${db} TO ${grantee}${a.grantable ? ' WITH GRANT OPTION' : ''};`,
      );
    }
  }
  return sql.join('\n');
}
