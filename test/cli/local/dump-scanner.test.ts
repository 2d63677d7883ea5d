import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DumpScanner,
  isCompleteKbDump,
  kbRowCount,
  unqualifiedName,
  type DumpSummary,
} from '../../../cli/local/dump-scanner';

const DUMP = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '',
  '\\restrict abc',
  'CREATE TABLE public.embedding_cache (',
  '    content_hash text NOT NULL',
  ');',
  'CREATE TABLE public.knowledge_entries (',
  '    id bigint NOT NULL',
  ');',
  'COPY public.embedding_cache (content_hash) FROM stdin;',
  '\\.',
  'COPY public.knowledge_entries (id, body) FROM stdin;',
  '1\tline one\\nline two',
  `2\t${'x'.repeat(10_000)}`,
  '3\t\\\\.',
  '\\.',
  '',
  '--',
  '-- PostgreSQL database dump complete',
  '--',
  '',
  '\\unrestrict abc',
  '',
].join('\n');

async function scan(text: string, chunkSize: number): Promise<DumpSummary> {
  const buffer = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += chunkSize) chunks.push(buffer.subarray(i, i + chunkSize));
  const scanner = new DumpScanner();
  await pipeline(Readable.from(chunks), scanner, new Writable({ write: (_c, _e, cb) => cb() }));
  return scanner.summary();
}

describe('DumpScanner', () => {
  it.each([1, 7, 4096, 1 << 20])(
    'counts COPY rows and sees header, trailer and tables with %i-byte chunks',
    async (size) => {
      const summary = await scan(DUMP, size);

      expect(summary).toMatchObject({ header: true, trailer: true, unterminatedCopy: false });
      expect(kbRowCount(summary, 'knowledge_entries')).toBe(3);
      expect(kbRowCount(summary, 'embedding_cache')).toBe(0);
      expect(isCompleteKbDump(summary)).toBe(true);
      expect(summary.bytes).toBe(Buffer.byteLength(DUMP));
    },
  );

  it('reports a dump cut inside a COPY block as incomplete', async () => {
    const summary = await scan(DUMP.slice(0, DUMP.indexOf('3\t')), 64);

    expect(summary.unterminatedCopy).toBe(true);
    expect(summary.trailer).toBe(false);
    expect(isCompleteKbDump(summary)).toBe(false);
  });

  it('does not accept a trailer followed by more SQL', async () => {
    const summary = await scan(`${DUMP}CREATE TABLE public.late (id int);\n`, 64);

    expect(summary.trailer).toBe(false);
  });

  it('reports a missing Knowledge Base table', async () => {
    const summary = await scan(
      DUMP.replace('CREATE TABLE public.embedding_cache', 'CREATE TABLE public.other'),
      64,
    );

    expect(isCompleteKbDump(summary)).toBe(false);
  });
});

describe('unqualifiedName', () => {
  it.each([
    ['public.knowledge_entries', 'knowledge_entries'],
    ['knowledge_entries', 'knowledge_entries'],
    ['"Kb"."embedding_cache"', 'embedding_cache'],
    ['public."we""ird"', 'we"ird'],
  ])('%s → %s', (input, expected) => {
    expect(unqualifiedName(input)).toBe(expected);
  });
});
