/**
 * A fake machine for the toolchain tests: a temporary folder with a PATH folder, a home and a
 * system root (KB_TOOLCHAIN_ROOT) into which tests put small shell scripts standing in for
 * PostgreSQL's programs, moto_server and cfn-lint (they print versions like the real ones).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SearchEnv } from '../../harness/toolchain';

/** Write an executable `#!/bin/sh` script at `path` running `body`. */
export function fakeTool(path: string, body: string, mode = 0o755): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

/** Fake PostgreSQL programs of `version` in `dir` (server: initdb, pg_ctl, postgres; client: pg_dump, psql). */
export function fakePostgres(dir: string, version: string, kinds: readonly ('server' | 'client')[]): string {
  const tools = [
    ...(kinds.includes('server') ? ['initdb', 'pg_ctl', 'postgres'] : []),
    ...(kinds.includes('client') ? ['pg_dump', 'psql'] : []),
  ];
  for (const tool of tools) fakeTool(join(dir, tool), `echo "${tool} (PostgreSQL) ${version}"`);
  return dir;
}

export interface FakeMachine {
  /** The temporary folder holding everything below. */
  readonly base: string;
  /** The only PATH folder. */
  readonly bin: string;
  readonly home: string;
  /** KB_TOOLCHAIN_ROOT: stands for `/` for Debian's, Homebrew's and Postgres.app's folders. */
  readonly root: string;
  /** A search environment over this machine, plus `env`. */
  se(env?: Record<string, string>, platform?: NodeJS.Platform): SearchEnv;
  remove(): void;
}

export function fakeMachine(): FakeMachine {
  const base = mkdtempSync(join(tmpdir(), 'kb-fake-machine-'));
  // Readable by other users: the cluster tests run fake programs as `postgres` when root.
  chmodSync(base, 0o755);
  const bin = join(base, 'bin');
  const home = join(base, 'home');
  const root = join(base, 'root');
  for (const dir of [bin, home, root]) mkdirSync(dir, { recursive: true, mode: 0o755 });
  return {
    base,
    bin,
    home,
    root,
    se: (env = {}, platform = 'linux') => ({
      env: { PATH: bin, HOME: home, KB_TOOLCHAIN_ROOT: root, ...env },
      platform,
    }),
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}
