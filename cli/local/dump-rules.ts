/**
 * What a plain pg_dump of one database may hold, statement by statement. A backup file is data:
 * anything that reaches beyond the database it is loaded into (database-level statements, role
 * statements, ALTER SYSTEM, COPY to or from a program or a server file, psql meta-commands other
 * than pg_dump's own `\restrict`/`\unrestrict`) is a problem, and so is any statement kind pg_dump
 * never writes. The rules see statements as tokens (strings, comments and COPY data are never
 * matched as text), so a Knowledge Base entry whose text reads "DROP DATABASE" is just data.
 */

export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** Words upper-cased; quoted identifiers and strings as written (unescaped). */
  readonly value: string;
}

export type ProblemKind =
  'database' | 'role' | 'system' | 'copy' | 'meta-command' | 'connect' | 'statement' | 'structure';

export interface DumpProblem {
  readonly line: number;
  readonly kind: ProblemKind;
  readonly detail: string;
}

/** A schema-qualified name as pg_dump writes it. */
export interface QualifiedName {
  readonly schema: string | undefined;
  readonly name: string;
}

/** `public.knowledge_entries`, `"My Schema"."X"`: quoted only when SQL needs it. */
export function formatQualifiedName(q: QualifiedName): string {
  const part = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
  return q.schema === undefined ? part(q.name) : `${part(q.schema)}.${part(q.name)}`;
}

/** What a statement means to the scanner. */
export type StatementEffect =
  | { readonly type: 'none' }
  | { readonly type: 'problem'; readonly kind: ProblemKind; readonly detail: string }
  | { readonly type: 'table'; readonly table: QualifiedName; readonly inherits: readonly QualifiedName[] }
  | { readonly type: 'attach'; readonly parent: QualifiedName; readonly child: QualifiedName }
  | { readonly type: 'copy'; readonly table: QualifiedName }
  /** An ownership or privilege statement (OWNER TO, GRANT, REVOKE, ALTER DEFAULT PRIVILEGES). */
  | { readonly type: 'roles'; readonly roles: readonly string[] };

const word = (t: Token | undefined): string => (t?.kind === 'word' ? t.value : '');
const isPunct = (t: Token | undefined, p: string): boolean => t?.kind === 'punct' && t.value === p;

/** Name tokens (word or quoted identifier) separated by dots, starting at `i`. */
export function readQualifiedName(
  tokens: readonly Token[],
  i: number,
): { name: QualifiedName; next: number } | undefined {
  const parts: string[] = [];
  let j = i;
  for (;;) {
    const t = tokens[j];
    if (!t || (t.kind !== 'word' && t.kind !== 'ident')) return undefined;
    parts.push(t.kind === 'word' ? t.value.toLowerCase() : t.value);
    j += 1;
    if (!isPunct(tokens[j], '.')) break;
    j += 1;
  }
  if (parts.length > 2) return undefined;
  const name =
    parts.length === 2 ? { schema: parts[0], name: parts[1]! } : { schema: undefined, name: parts[0]! };
  return { name, next: j };
}

/** Role names in a comma-separated list starting at `i` (PUBLIC and CURRENT_USER-style words skipped). */
function roleList(tokens: readonly Token[], i: number): string[] {
  const roles: string[] = [];
  for (let j = i; j < tokens.length; j += 1) {
    const t = tokens[j]!;
    if (t.kind === 'ident') roles.push(t.value);
    else if (t.kind === 'word') {
      if (['WITH', 'GRANTED', 'CASCADE', 'RESTRICT'].includes(t.value)) break;
      if (t.value === 'GROUP') continue;
      if (!['PUBLIC', 'CURRENT_USER', 'SESSION_USER', 'CURRENT_ROLE'].includes(t.value))
        roles.push(t.value.toLowerCase());
    } else if (!isPunct(t, ',')) break;
  }
  return roles;
}

const DATABASE_HINT = 'a backup holds the contents of one database; the restore creates the database itself';
const ROLE_HINT = 'roles belong to the server, not to a database backup';
const LARGE_OBJECT_FUNCTIONS = new Set(['lo_create', 'lo_open', 'lo_close', 'lowrite']);
const SELECT_FUNCTIONS = new Set(['set_config', 'setval', ...LARGE_OBJECT_FUNCTIONS]);
const TOP_LEVEL = new Set([
  'SET',
  'SELECT',
  'CREATE',
  'ALTER',
  'DROP',
  'COMMENT',
  'GRANT',
  'REVOKE',
  'SECURITY',
  'COPY',
  'REFRESH',
]);

function problem(kind: ProblemKind, detail: string): StatementEffect {
  return { type: 'problem', kind, detail };
}

/** The object word after CREATE/ALTER/DROP, skipping OR REPLACE and modifiers. */
function objectWordAt(tokens: readonly Token[], i: number): { word: string; at: number } {
  let j = i;
  if (word(tokens[j]) === 'OR' && word(tokens[j + 1]) === 'REPLACE') j += 2;
  while (
    ['UNLOGGED', 'TEMP', 'TEMPORARY', 'GLOBAL', 'LOCAL', 'TRUSTED', 'PROCEDURAL', 'DEFAULT'].includes(
      word(tokens[j]),
    )
  )
    j += 1;
  return { word: word(tokens[j]), at: j };
}

function clusterObject(
  verb: string,
  tokens: readonly Token[],
  obj: { word: string; at: number },
): StatementEffect | undefined {
  if (obj.word === 'DATABASE') return problem('database', `${verb} DATABASE: ${DATABASE_HINT}`);
  if (obj.word === 'SYSTEM') return problem('system', `${verb} SYSTEM changes the server's configuration`);
  if (obj.word === 'TABLESPACE')
    return problem('database', `${verb} TABLESPACE: tablespaces belong to the server`);
  if (
    obj.word === 'ROLE' ||
    obj.word === 'GROUP' ||
    (obj.word === 'USER' && word(tokens[obj.at + 1]) !== 'MAPPING')
  )
    return problem('role', `${verb} ${obj.word}: ${ROLE_HINT}`);
  if (verb === 'DROP' && obj.word === 'OWNED') return problem('role', `DROP OWNED: ${ROLE_HINT}`);
  return undefined;
}

function classifySet(tokens: readonly Token[]): StatementEffect {
  let j = 1;
  if (['SESSION', 'LOCAL'].includes(word(tokens[j]))) j += 1;
  const name = word(tokens[j]);
  if (
    name === 'ROLE' ||
    (name === 'SESSION' && word(tokens[j + 1]) === 'AUTHORIZATION') ||
    name === 'AUTHORIZATION'
  )
    return problem(
      'role',
      `SET ${name === 'ROLE' ? 'ROLE' : 'SESSION AUTHORIZATION'} changes who runs the rest of the file`,
    );
  if (name === 'STANDARD_CONFORMING_STRINGS') {
    const value = tokens[j + 2];
    if (!value || value.value.toLowerCase() !== 'on')
      return problem('statement', 'standard_conforming_strings must stay on (pg_dump writes on)');
  }
  return { type: 'none' };
}

function classifySelect(tokens: readonly Token[]): StatementEffect {
  // pg_dump writes SELECT pg_catalog.<fn>(literals...) only: set_config, setval, large objects.
  const fn = readQualifiedName(tokens, 1);
  const ok =
    fn !== undefined &&
    fn.name.schema === 'pg_catalog' &&
    SELECT_FUNCTIONS.has(fn.name.name) &&
    isPunct(tokens[fn.next], '(') &&
    isPunct(tokens[tokens.length - 1], ')') &&
    tokens
      .slice(fn.next + 1, -1)
      .every(
        (t) =>
          t.kind === 'string' ||
          t.kind === 'number' ||
          isPunct(t, ',') ||
          isPunct(t, '-') ||
          ['TRUE', 'FALSE'].includes(word(t)),
      );
  if (ok) return { type: 'none' };
  const what = fn
    ? formatQualifiedName(fn.name)
    : tokens
        .slice(1, 3)
        .map((t) => t.value)
        .join(' ');
  return problem('statement', `SELECT ${what}(...) is not a statement pg_dump writes`);
}

function classifyCopy(tokens: readonly Token[]): StatementEffect {
  if (tokens.some((t) => word(t) === 'PROGRAM'))
    return problem('copy', 'COPY ... PROGRAM runs a program on the database server');
  const target = readQualifiedName(tokens, 1);
  if (!target) return problem('copy', 'COPY of a query is not a statement pg_dump writes');
  let j = target.next;
  if (isPunct(tokens[j], '(')) {
    while (j < tokens.length && !isPunct(tokens[j], ')')) j += 1;
    j += 1;
  }
  if (word(tokens[j]) === 'FROM' && word(tokens[j + 1]) === 'STDIN' && j + 2 === tokens.length)
    return { type: 'copy', table: target.name };
  if (word(tokens[j]) === 'TO') return problem('copy', 'COPY ... TO writes out of the database');
  if (word(tokens[j]) === 'FROM' && tokens[j + 1]?.kind === 'string')
    return problem('copy', 'COPY ... FROM a file reads a file on the database server');
  return problem('copy', 'only `COPY <table> (<columns>) FROM stdin;` is written by pg_dump');
}

function classifyCreate(tokens: readonly Token[]): StatementEffect {
  const obj = objectWordAt(tokens, 1);
  const refused = clusterObject('CREATE', tokens, obj);
  if (refused) return refused;
  if (obj.word !== 'TABLE') return { type: 'none' };
  const table = readQualifiedName(tokens, obj.at + 1);
  if (!table) return { type: 'none' };
  const inherits: QualifiedName[] = [];
  let depth = 0;
  for (let j = table.next; j < tokens.length; j += 1) {
    const t = tokens[j]!;
    if (isPunct(t, '(')) depth += 1;
    else if (isPunct(t, ')')) depth -= 1;
    else if (depth === 0 && word(t) === 'INHERITS' && isPunct(tokens[j + 1], '(')) {
      let k = j + 2;
      for (;;) {
        const parent = readQualifiedName(tokens, k);
        if (!parent) break;
        inherits.push(parent.name);
        k = parent.next;
        if (!isPunct(tokens[k], ',')) break;
        k += 1;
      }
    }
  }
  return { type: 'table', table: table.name, inherits };
}

function classifyAlter(tokens: readonly Token[]): StatementEffect {
  const obj = objectWordAt(tokens, 1);
  const refused = clusterObject('ALTER', tokens, obj);
  if (refused) return refused;
  if (obj.word === 'TABLE') {
    let j = obj.at + 1;
    if (word(tokens[j]) === 'ONLY') j += 1;
    const parent = readQualifiedName(tokens, j);
    if (parent && word(tokens[parent.next]) === 'ATTACH' && word(tokens[parent.next + 1]) === 'PARTITION') {
      const child = readQualifiedName(tokens, parent.next + 2);
      if (child) return { type: 'attach', parent: parent.name, child: child.name };
    }
  }
  if (obj.word === 'DEFAULT' || word(tokens[1]) === 'DEFAULT') {
    const forAt = tokens.findIndex(
      (t, i) => word(t) === 'FOR' && ['ROLE', 'USER'].includes(word(tokens[i + 1])),
    );
    const grantees = grantRoles(tokens);
    return {
      type: 'roles',
      roles: [...(forAt >= 0 ? roleList(tokens, forAt + 2).slice(0, 1) : []), ...grantees],
    };
  }
  const ownerAt = tokens.findIndex((t, i) => word(t) === 'OWNER' && word(tokens[i + 1]) === 'TO');
  if (ownerAt >= 0) return { type: 'roles', roles: roleList(tokens, ownerAt + 2).slice(0, 1) };
  return { type: 'none' };
}

function grantRoles(tokens: readonly Token[]): string[] {
  const verbAt = tokens.findIndex((t) => word(t) === 'GRANT' || word(t) === 'REVOKE');
  if (verbAt < 0) return [];
  const to = word(tokens[verbAt]) === 'GRANT' ? 'TO' : 'FROM';
  const at = tokens.findIndex((t, i) => i > verbAt && word(t) === to);
  return at >= 0 ? roleList(tokens, at + 1) : [];
}

function classifyGrant(tokens: readonly Token[]): StatementEffect {
  let depth = 0;
  let onAt = -1;
  for (let j = 1; j < tokens.length; j += 1) {
    const t = tokens[j]!;
    if (isPunct(t, '(')) depth += 1;
    else if (isPunct(t, ')')) depth -= 1;
    else if (depth === 0 && word(t) === 'ON') {
      onAt = j;
      break;
    }
  }
  const verb = word(tokens[0]);
  if (onAt < 0) return problem('role', `${verb} of role membership: ${ROLE_HINT}`);
  const target = word(tokens[onAt + 1]);
  if (target === 'DATABASE' || target === 'TABLESPACE')
    return problem('database', `${verb} ... ON ${target}: ${DATABASE_HINT}`);
  return { type: 'roles', roles: grantRoles(tokens) };
}

function classifyOn(verb: string, tokens: readonly Token[]): StatementEffect {
  const onAt = tokens.findIndex((t) => word(t) === 'ON');
  const target = word(tokens[onAt + 1]);
  if (target === 'DATABASE' || target === 'TABLESPACE')
    return problem('database', `${verb} ON ${target}: ${DATABASE_HINT}`);
  if (target === 'ROLE') return problem('role', `${verb} ON ROLE: ${ROLE_HINT}`);
  return { type: 'none' };
}

/** Classify one complete statement (its tokens, without the final semicolon). */
export function classifyStatement(tokens: readonly Token[]): StatementEffect {
  if (tokens.length === 0) return { type: 'none' };
  const first = word(tokens[0]);
  if (!TOP_LEVEL.has(first)) {
    const shown = tokens[0]!.kind === 'word' ? first : tokens[0]!.value;
    return problem('statement', `${shown} statements are not written by pg_dump`);
  }
  switch (first) {
    case 'SET':
      return classifySet(tokens);
    case 'SELECT':
      return classifySelect(tokens);
    case 'COPY':
      return classifyCopy(tokens);
    case 'CREATE':
      return classifyCreate(tokens);
    case 'ALTER':
      return classifyAlter(tokens);
    case 'DROP':
      return clusterObject('DROP', tokens, objectWordAt(tokens, 1)) ?? { type: 'none' };
    case 'GRANT':
    case 'REVOKE':
      return classifyGrant(tokens);
    case 'COMMENT':
      return classifyOn('COMMENT', tokens);
    case 'SECURITY':
      return classifyOn('SECURITY LABEL', tokens);
    default:
      return { type: 'none' };
  }
}
