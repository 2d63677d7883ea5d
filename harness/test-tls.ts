/**
 * A throwaway certificate authority for TLS on local PostgreSQL clusters: a CA, a server
 * certificate for the given DNS names signed by it, and an unrelated CA (to prove that a server
 * certificate which does not chain to the trusted bundle is refused). openssl does the work.
 * Files readable by the PostgreSQL server user. Never imports jest.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { serverTmpdir } from './cluster-root';
import { join } from 'node:path';
import { giveToServerUser } from './pg-cluster';

export interface TestCa {
  readonly dir: string;
  /** PEM of the CA that signed the server certificate. */
  readonly ca: string;
  /** PEM of an unrelated CA. */
  readonly otherCa: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** `ALTER SYSTEM` statements that turn TLS on with this certificate (then `SELECT pg_reload_conf()`). */
  readonly enableSql: readonly string[];
  remove(): void;
}

/** Make a CA and a server certificate for `dnsNames` (wildcards allowed) and 127.0.0.1. */
export function makeTestCa(dnsNames: readonly string[]): TestCa {
  const dir = mkdtempSync(join(serverTmpdir(), 'kb-test-ca-'));
  chmodSync(dir, 0o755);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const subject = (cn: string): string[] => ['-subj', `/CN=${cn}`, '-days', '2'];
  // P-256 keys: what these certificates prove (the chain, the names) does not depend on the key
  // type, and an RSA 2048 key took about 0.3 s of CPU to make, three per CA.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  openssl(
    'req',
    '-x509',
    ...newKey,
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    ...subject('kb-emulated-rds-ca'),
  );
  openssl(
    'req',
    ...newKey,
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    ...subject(dnsNames[0] ?? '127.0.0.1'),
  );
  const san = [...dnsNames.map((d) => `DNS:${d}`), 'IP:127.0.0.1'].join(',');
  writeFileSync(join(dir, 'san.ext'), `subjectAltName=${san}\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  openssl(
    'req',
    '-x509',
    ...newKey,
    '-nodes',
    '-keyout',
    'other.key',
    '-out',
    'other.crt',
    ...subject('unrelated-ca'),
  );
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  chmodSync(keyFile, 0o600);
  if (process.getuid?.() === 0) {
    const id = (flag: string): number =>
      Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    for (const f of [keyFile, certFile]) chownSync(f, id('-u'), id('-g'));
  } else giveToServerUser(keyFile);
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    otherCa: readFileSync(join(dir, 'other.crt'), 'utf8'),
    certFile,
    keyFile,
    enableSql: [
      `ALTER SYSTEM SET ssl_cert_file = '${certFile}'`,
      `ALTER SYSTEM SET ssl_key_file = '${keyFile}'`,
      'ALTER SYSTEM SET ssl = on',
    ],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
