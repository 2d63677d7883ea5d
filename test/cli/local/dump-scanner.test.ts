import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DumpContentError,
  DumpScanner,
  findKbTable,
  isCompleteKbDump,
  kbRowCount,
  type DumpSummary,
  type GatePiece,
} from '../../../cli/local/dump-scanner';
import { contentCheck } from '../../../cli/local/validate';

const toc = (name: string, type: string, schema = 'public') => [
  '--',
  `-- ${type === 'TABLE DATA' ? 'Data for ' : ''}Name: ${name}; Type: ${type}; Schema: ${schema}; Owner: -`,
  '--',
  '',
];

const HEAD = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '',
  '\\restrict abc',
  '',
  'SET standard_conforming_strings = on;',
  "SELECT pg_catalog.set_config('search_path', '', false);",
  '',
];
const TAIL = ['', '--', '-- PostgreSQL database dump complete', '--', '', '\\unrestrict abc', ''];

/** A dump with the two Knowledge Base tables; `body` goes between the CREATEs and the data. */
function dump(options: { body?: string[]; entries?: string[]; extra?: string[] } = {}): string {
  return [
    ...HEAD,
    ...toc('embedding_cache', 'TABLE'),
    'CREATE TABLE public.embedding_cache (',
    '    content_hash text NOT NULL',
    ');',
    ...toc('knowledge_entries', 'TABLE'),
    'CREATE TABLE public.knowledge_entries (',
    '    id bigint NOT NULL',
    ');',
    ...(options.body ?? []),
    ...toc('embedding_cache', 'TABLE DATA'),
    'COPY public.embedding_cache (content_hash) FROM stdin;',
    '\\.',
    ...toc('knowledge_entries', 'TABLE DATA'),
    'COPY public.knowledge_entries (id, body) FROM stdin;',
    ...(options.entries ?? ['1\tline one\\nline two', `2\t${'x'.repeat(10_000)}`, '3\t\\\\.']),
    '\\.',
    ...(options.extra ?? []),
    ...TAIL,
  ].join('\n');
}

async function scan(text: string, chunkSize = 64): Promise<DumpSummary> {
  const buffer = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += chunkSize) chunks.push(buffer.subarray(i, i + chunkSize));
  const scanner = new DumpScanner();
  await pipeline(Readable.from(chunks), scanner, new Writable({ write: (_c, _e, cb) => cb() }));
  return scanner.summary();
}

/** What the restore's gate passes on to psql, or the error it stops with. */
async function gate(text: string, chunkSize = 64): Promise<{ out: string; key: string }> {
  const buffer = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += chunkSize) chunks.push(buffer.subarray(i, i + chunkSize));
  const scanner = new DumpScanner({ gate: true });
  let out = '';
  await pipeline(
    Readable.from(chunks),
    scanner,
    new Writable({
      write: (c: Buffer, _e, cb) => {
        out += c.toString('utf8');
        cb();
      },
    }),
  );
  return { out, key: scanner.restrictKey };
}

describe('DumpScanner', () => {
  it.each([1, 7, 4096, 1 << 20])(
    'counts COPY rows and sees header, trailer, guard and tables with %i-byte chunks',
    async (size) => {
      const text = dump();
      const summary = await scan(text, size);

      expect(summary).toMatchObject({
        header: true,
        trailer: true,
        unterminatedCopy: false,
        restrictGuard: true,
        problemCount: 0,
      });
      expect(kbRowCount(summary, 'knowledge_entries')).toBe(3);
      expect(kbRowCount(summary, 'embedding_cache')).toBe(0);
      expect(isCompleteKbDump(summary)).toBe(true);
      expect(summary.bytes).toBe(Buffer.byteLength(text));
    },
  );

  it('reports a dump cut inside a COPY block as incomplete', async () => {
    const text = dump();
    const summary = await scan(text.slice(0, text.indexOf('3\t')));

    expect(summary.unterminatedCopy).toBe(true);
    expect(summary.trailer).toBe(false);
    expect(isCompleteKbDump(summary)).toBe(false);
  });

  it('does not accept a trailer followed by more SQL', async () => {
    const summary = await scan(`${dump()}CREATE TABLE public.late (id int);\n`);

    expect(summary.trailer).toBe(false);
  });

  it('reports a missing Knowledge Base table', async () => {
    const summary = await scan(
      dump().replace('CREATE TABLE public.embedding_cache', 'CREATE TABLE public.other'),
    );

    expect(isCompleteKbDump(summary)).toBe(false);
  });

  it('counts public.knowledge_entries, not archive.knowledge_entries, whatever comes first', async () => {
    const archive = [
      ...toc('knowledge_entries', 'TABLE', 'archive'),
      'CREATE TABLE archive.knowledge_entries (id int);',
      ...toc('knowledge_entries', 'TABLE DATA', 'archive'),
      'COPY archive.knowledge_entries (id) FROM stdin;',
      '1',
      '2',
      '\\.',
    ];
    const text = dump().replace(
      '--\n-- Name: embedding_cache; Type: TABLE;',
      `${archive.join('\n')}\n--\n-- Name: embedding_cache; Type: TABLE;`,
    );

    const summary = await scan(text);

    expect(findKbTable(summary, 'knowledge_entries')?.name).toBe('public.knowledge_entries');
    expect(kbRowCount(summary, 'knowledge_entries')).toBe(3);
    expect(summary.rowCounts['archive.knowledge_entries']).toBe(2);
  });

  it('sums attached partitions (nested) into their parent', async () => {
    const text = [
      ...HEAD,
      ...toc('embedding_cache', 'TABLE'),
      'CREATE UNLOGGED TABLE public.embedding_cache (',
      '    h text',
      ');',
      ...toc('TABLE embedding_cache', 'COMMENT'),
      "COMMENT ON TABLE public.embedding_cache IS 'x",
      'COPY public.knowledge_entries (id) FROM stdin;',
      "y';",
      ...toc('knowledge_entries', 'TABLE'),
      'CREATE TABLE public.knowledge_entries (id bigint, created_at date NOT NULL)',
      'PARTITION BY RANGE (created_at);',
      'CREATE TABLE public.ke_2025 (id bigint, created_at date NOT NULL);',
      'CREATE TABLE public.ke_2026 (id bigint, created_at date NOT NULL) PARTITION BY LIST (id);',
      'CREATE TABLE public.ke_2026_a (id bigint, created_at date NOT NULL);',
      "ALTER TABLE ONLY public.knowledge_entries ATTACH PARTITION public.ke_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
      "ALTER TABLE ONLY public.knowledge_entries ATTACH PARTITION public.ke_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');",
      'ALTER TABLE ONLY public.ke_2026 ATTACH PARTITION public.ke_2026_a DEFAULT;',
      ...toc('ke_2025', 'TABLE DATA'),
      'COPY public.ke_2025 (id, created_at) FROM stdin;',
      '1\t2025-05-01',
      '2\t2025-06-01',
      '\\.',
      ...toc('ke_2026_a', 'TABLE DATA'),
      'COPY public.ke_2026_a (id, created_at) FROM stdin;',
      '3\t2026-05-01',
      '\\.',
      ...TAIL,
    ].join('\n');

    const summary = await scan(text, 5);

    expect(summary.problems).toEqual([]);
    expect(kbRowCount(summary, 'knowledge_entries')).toBe(3);
    expect(kbRowCount(summary, 'embedding_cache')).toBe(0);
    expect(isCompleteKbDump(summary)).toBe(true);
  });

  it('treats statement text inside COPY data, strings, comments and function bodies as data', async () => {
    const body = [
      ...toc('f()', 'FUNCTION'),
      'CREATE FUNCTION public.f() RETURNS integer',
      '    LANGUAGE sql',
      '    BEGIN ATOMIC',
      ' SELECT 1;',
      ' SELECT 2;',
      'END;',
      'CREATE FUNCTION public.g() RETURNS text LANGUAGE plpgsql AS $_$',
      "BEGIN RETURN 'DROP DATABASE kb; \\! rm -rf /'; END",
      '$_$;',
      "COMMENT ON TABLE public.knowledge_entries IS 'DROP DATABASE kb;",
      "\\connect postgres';",
      '/* DROP DATABASE kb; \\! echo',
      '   ALTER SYSTEM SET x = 1; */',
    ];
    const entries = ['1\tDROP DATABASE kb WITH (FORCE);', '2\t\\\\! rm -rf ~', "3\tCOPY x TO PROGRAM 'sh';"];

    const summary = await scan(dump({ body, entries }), 3);

    expect(summary.problems).toEqual([]);
    expect(kbRowCount(summary, 'knowledge_entries')).toBe(3);
  });

  it.each([
    ['DROP DATABASE kb WITH (FORCE);', 'database', true],
    ['drop\n  database kb;', 'database', true],
    ["CREATE DATABASE kb WITH TEMPLATE = template0 ENCODING = 'UTF8';", 'database', true],
    ['ALTER DATABASE kb SET work_mem = 1;', 'database', false],
    ["COMMENT ON DATABASE kb IS 'x';", 'database', false],
    ['GRANT CONNECT ON DATABASE kb TO PUBLIC;', 'database', false],
    ['\\connect kb', 'connect', true],
    ['\\! touch /tmp/pwned', 'meta-command', false],
    ['SET lock_timeout = 0; \\! id', 'meta-command', false],
    ['\\copy public.x from /etc/passwd', 'meta-command', false],
    ["COPY public.knowledge_entries TO PROGRAM 'sh -c id';", 'copy', false],
    ["COPY public.knowledge_entries (id) FROM PROGRAM 'curl x';", 'copy', false],
    ["COPY public.knowledge_entries FROM '/etc/passwd';", 'copy', false],
    ["ALTER SYSTEM SET archive_command = 'sh';", 'system', false],
    ["CREATE ROLE eve LOGIN PASSWORD 'x';", 'role', false],
    ['ALTER USER postgres WITH PASSWORD NULL;', 'role', false],
    ['DROP ROLE app;', 'role', false],
    ['SET ROLE postgres;', 'role', false],
    ['SET SESSION AUTHORIZATION postgres;', 'role', false],
    ['GRANT pg_read_server_files TO app;', 'role', false],
    ['SELECT pg_terminate_backend(pid) FROM pg_stat_activity;', 'statement', false],
    ["SELECT pg_catalog.setval((SELECT 'x'), 1, true);", 'statement', false],
    ['DO $$ BEGIN PERFORM 1; END $$;', 'statement', false],
    ["LOAD 'evil';", 'statement', false],
    ['SET standard_conforming_strings = off;', 'statement', false],
  ])('flags %j as a %s problem', async (statement, kind, createsDatabase) => {
    const summary = await scan(dump({ extra: ['', statement] }));

    expect(summary.problems).toEqual([expect.objectContaining({ kind })]);
    expect(summary.createsDatabase).toBe(createsDatabase);
  });

  it('accepts what pg_dump writes: owners, grants, default privileges, sequences, user mappings', async () => {
    const body = [
      'ALTER TABLE public.knowledge_entries OWNER TO kb_owner;',
      'GRANT SELECT,INSERT ON TABLE public.knowledge_entries TO kb_app;',
      'REVOKE ALL ON SCHEMA public FROM PUBLIC;',
      'ALTER DEFAULT PRIVILEGES FOR ROLE kb_owner IN SCHEMA public GRANT SELECT ON TABLES TO "Kb Reader";',
      "SELECT pg_catalog.setval('public.knowledge_entries_id_seq', 120, true);",
      "CREATE USER MAPPING FOR kb_app SERVER s OPTIONS (user 'x');",
      'SET default_table_access_method = heap;',
    ];

    const summary = await scan(dump({ body }));

    expect(summary.problems).toEqual([]);
    expect(summary.roles).toEqual(['Kb Reader', 'kb_app', 'kb_owner']);
  });

  it('notices a missing \\restrict guard', async () => {
    const summary = await scan(dump().replace('\\restrict abc\n', ''));

    expect(summary.restrictGuard).toBe(false);
    expect(summary.problems).toEqual([]);
  });
});

describe('DumpScanner as the restore gate', () => {
  it("passes the file through with its own \\restrict key in place of the file's", async () => {
    const text = dump();

    const { out, key } = await gate(text, 7);

    expect(out.startsWith(`\\restrict ${key}\n`)).toBe(true);
    expect(out).not.toContain('\\restrict abc');
    expect(out).not.toContain('\\unrestrict');
    expect(out.slice(out.indexOf('\n') + 1)).toBe(
      text.replace('\\restrict abc\n', '').replace('\\unrestrict abc\n', ''),
    );
  });

  it('stops before the offending statement reaches psql', async () => {
    const text = dump({ extra: ['', 'SET lock_timeout = 0;', 'DROP', 'DATABASE kb;', "SELECT 'after';"] });
    const scanner = new DumpScanner({ gate: true });
    let out = '';

    const run = pipeline(
      Readable.from([Buffer.from(text)]),
      scanner,
      new Writable({
        write: (c: Buffer, _e, cb) => {
          out += c.toString('utf8');
          cb();
        },
      }),
    );

    await expect(run).rejects.toBeInstanceOf(DumpContentError);
    await expect(run).rejects.toThrow(/DROP DATABASE/);
    expect(out).toContain('SET lock_timeout = 0;');
    expect(out).not.toMatch(/DROP|DATABASE kb|after/);
  });
});

describe('contentCheck', () => {
  it('explains a --create dump and still names anything else the file holds', async () => {
    const summary = await scan(dump({ extra: ['', 'DROP DATABASE kb;', '\\connect kb', '\\! id'] }));

    const check = contentCheck(summary, false);

    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(
      /^this is a `pg_dump --create` \(or --clean\) dump: .*re-dump without --create\/--clean/,
    );
    expect(check.detail).toMatch(/it also holds: line \d+: the psql meta-command `\\! id`/);
  });
});

describe('DumpScanner as the restore gate, in pieces (for two load sessions)', () => {
  async function pieces(text: string, chunkSize: number, gateMode: 'bytes' | 'pieces'): Promise<GatePiece[]> {
    const buffer = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buffer.length; i += chunkSize) chunks.push(buffer.subarray(i, i + chunkSize));
    const scanner = new DumpScanner({ gate: true, pieces: gateMode === 'pieces' });
    const out: GatePiece[] = [];
    await pipeline(
      Readable.from(chunks),
      scanner,
      new Writable({
        objectMode: true,
        write: (c: GatePiece | Buffer, _e, cb) => {
          out.push(Buffer.isBuffer(c) ? { kind: 'sql', bytes: c, statements: 0, setting: false } : c);
          cb();
        },
      }),
    );
    return out;
  }
  const joined = (list: readonly GatePiece[]) =>
    Buffer.concat(list.map((p) => p.bytes))
      .toString('utf8')
      .replace(/^\\restrict \S+\n/, '');

  it.each([1, 7, 4096, 1 << 20])(
    'passes exactly the bytes of byte mode, rows only inside blocks, with %i-byte chunks',
    async (size) => {
      const text = dump({ extra: ['', 'CREATE INDEX i ON public.knowledge_entries (id);'] });

      const list = await pieces(text, size, 'pieces');

      expect(joined(list)).toBe(joined(await pieces(text, size, 'bytes')));
      // Each block: one copy-begin, rows, then exactly one copy-end holding only the `\.` line.
      const kinds = list.map((p) => p.kind).filter((k, i, all) => k !== 'copy-rows' || all[i - 1] !== k);
      const order = kinds.filter((k) => k !== 'sql').join(' ');
      expect(order).toBe('copy-begin copy-end copy-begin copy-rows copy-end');
      for (const end of list.filter((p) => p.kind === 'copy-end')) expect(end.bytes.toString()).toBe('\\.\n');
      const rows = list.filter((p) => p.kind === 'copy-rows').map((p) => p.bytes.toString('utf8'));
      expect(rows.join('')).toBe(`1\tline one\\nline two\n2\t${'x'.repeat(10_000)}\n3\t\\\\.\n`);
      // Whole lines only: a session given a piece never gets half a row.
      for (const r of rows) expect(r.endsWith('\n')).toBe(true);
      const begins = list.filter((p) => p.kind === 'copy-begin');
      expect(
        begins.map((b) => [b.kind === 'copy-begin' && b.table, b.kind === 'copy-begin' && b.alone]),
      ).toEqual([
        ['public.embedding_cache', true],
        ['public.knowledge_entries', true],
      ]);
    },
  );

  it('keeps at most one piece waiting for a load that is not taking them (pieces hold 256 KiB chunks)', async () => {
    const row = `1\t${'y'.repeat(1000)}\n`;
    const rows = Array.from({ length: 256 }, () => row.repeat(256)); // 256 chunks of ~256 KiB
    const [head, tail] = dump({ entries: ['@ROWS@'] }).split('@ROWS@\n');
    const chunks = [head!, ...rows, tail!].map((t) => Buffer.from(t));
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (const c of chunks) {
          pulled += 1;
          yield c;
        }
      })(),
    );
    const gate = new DumpScanner({ gate: true, pieces: true });
    let taken = 0;
    // A load that takes the first 40 pieces (the schema's, then some rows), then stalls.
    const stalled = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write: (_piece, _e, cb) => {
        taken += 1;
        if (taken < 40) cb();
      },
    });
    source.pipe(gate).pipe(stalled);
    await new Promise((r) => setTimeout(r, 200));

    expect(gate.readableLength).toBeLessThanOrEqual(1);
    // The source stopped well before the end: memory stays bounded whatever the file's size.
    // (16 pieces, 4 MiB, waited with the stream's default for objects: 28 chunks were pulled.)
    expect(pulled).toBeLessThan(20);
    source.destroy();
    gate.destroy();
  });

  it('marks session settings, and statements, so the helper repeats only settings', async () => {
    const list = await pieces(dump({ body: ['CREATE SEQUENCE public.s;'] }), 4096, 'pieces');

    const sql = list.filter((p): p is Extract<GatePiece, { kind: 'sql' }> => p.kind === 'sql');
    const settings = sql.filter((p) => p.setting).map((p) => p.bytes.toString().trim());
    expect(settings).toEqual([
      'SET standard_conforming_strings = on;',
      "SELECT pg_catalog.set_config('search_path', '', false);",
    ]);
    expect(sql.find((p) => p.bytes.toString().includes('CREATE SEQUENCE'))).toMatchObject({
      setting: false,
      statements: 1,
    });
    // Comments and blank lines are not statements: nothing waits for the helper on them.
    expect(sql.find((p) => p.bytes.toString() === '--\n')).toMatchObject({ statements: 0 });
  });

  it('does not let a COPY that shares its line with another statement be shared', async () => {
    const shared = dump().replace(
      'COPY public.knowledge_entries (id, body) FROM stdin;',
      'SET lock_timeout = 0; COPY public.knowledge_entries (id, body) FROM stdin;',
    );

    const begins = (await pieces(shared, 64, 'pieces')).filter((p) => p.kind === 'copy-begin');

    expect(begins.map((p) => p.kind === 'copy-begin' && p.alone)).toEqual([true, false]);
  });

  it('refuses transaction control, so every statement the sessions run commits by itself', async () => {
    // The helper relies on it: what the main session ran before a block is committed.
    for (const statement of ['BEGIN;', 'START TRANSACTION;', 'COMMIT;', 'SAVEPOINT s;']) {
      await expect(pieces(dump({ body: [statement] }), 64, 'pieces')).rejects.toBeInstanceOf(
        DumpContentError,
      );
    }
  });
});
