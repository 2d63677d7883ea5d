/**
 * How the harness starts moto: moto's own server through harness/moto-server.py (access log off,
 * module list read once, one request at a time) with the Python of moto_server's script, else
 * moto_server itself; the server it starts answers the SDK as moto does while writing no line per
 * request, and refuses the second of two simultaneous creates of one name as RDS does.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, motoCommand } from '../../harness/moto';
import { requirePythonTool } from '../../harness/toolchain';
import { fakeMachine, fakeTool, type FakeMachine } from '../support/fake-tools';
import { sharedMoto } from '../support/shared-services';

let m: FakeMachine;
beforeEach(() => {
  m = fakeMachine();
});
afterEach(() => m.remove());

describe('motoCommand', () => {
  it("runs the launcher with the Python named by moto_server's #! line, with the same arguments", () => {
    // Prepare
    const python = fakeTool(join(m.base, 'python3.11'), 'exit 0');
    const moto = join(m.bin, 'moto_server');
    writeFileSync(moto, `#!${python}\nfrom moto.server import main\n`, { mode: 0o755 });

    // Act
    const run = motoCommand(moto, ['-H', '127.0.0.1', '-p', '5123'], m.se());

    // Assess
    expect(run.cmd).toBe(python);
    expect(run.args).toEqual([
      join(__dirname, '../../harness/moto-server.py'),
      '-H',
      '127.0.0.1',
      '-p',
      '5123',
    ]);
  });

  it('runs moto_server itself when no Python can be told from it (a compiled or shell wrapper)', () => {
    const moto = fakeTool(join(m.bin, 'moto_server'), 'exec /opt/moto/bin/server "$@"');

    const run = motoCommand(moto, ['-p', '5123'], m.se());

    expect(run).toEqual({ cmd: moto, args: ['-p', '5123'] });
  });
});

describe('the launcher, on the installed moto', () => {
  it('answers the SDK as moto does and writes no access-log line; SIGTERM stops it', async () => {
    // Prepare
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const run = motoCommand(requirePythonTool('moto_server').path, ['-H', '127.0.0.1', '-p', String(port)]);
    const child = spawn(run.cmd, run.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const s3 = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    try {
      for (let i = 0; ; i += 1) {
        const up = await fetch(`${endpoint}/moto-api/`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        if (i > 300) throw new Error(`the launcher did not answer: ${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }

      // Act: requests routed by service (the cached module list) before and after a reset.
      await s3.send(new CreateBucketCommand({ Bucket: 'kb-launcher-a' }));
      const first = await s3.send(new ListBucketsCommand({}));
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await s3.send(new CreateBucketCommand({ Bucket: 'kb-launcher-b' }));
      const second = await s3.send(new ListBucketsCommand({}));

      // Assess
      expect(first.Buckets?.map((b) => b.Name)).toEqual(['kb-launcher-a']);
      expect(second.Buckets?.map((b) => b.Name)).toEqual(['kb-launcher-b']);
    } finally {
      s3.destroy();
      child.kill('SIGTERM');
    }
    await exited;
    expect(output).not.toMatch(/"(GET|PUT|POST) \//);
  });
});

describe('the launcher serves one request at a time', () => {
  it('of many concurrent creates of one RDS instance id, one succeeds and the others meet DBInstanceAlreadyExists, as in RDS', async () => {
    // Prepare: moto's backends check that an id is free, then store it, without a lock of their
    // own; the product relies on RDS refusing the second create (restore-test's two schedules).
    const moto = await sharedMoto();
    const rds = new RDSClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
    const create = () =>
      rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'kb-concurrent-create',
          Engine: 'postgres',
          DBInstanceClass: 'db.t3.micro',
          AllocatedStorage: 20,
          MasterUsername: 'kb',
          MasterUserPassword: 'not-a-real-password',
        }),
      );
    try {
      // Act: rounds of simultaneous creates, moto wiped between rounds
      const outcomes: string[] = [];
      for (let round = 0; round < 5; round += 1) {
        const settled = await Promise.allSettled(Array.from({ length: 8 }, create));
        outcomes.push(
          settled
            .map((r) => (r.status === 'fulfilled' ? 'created' : (r.reason as Error).name))
            .sort()
            .join(','),
        );
        const { DBInstances } = await rds.send(new DescribeDBInstancesCommand({}));
        expect(DBInstances?.filter((i) => i.DBInstanceIdentifier === 'kb-concurrent-create')).toHaveLength(1);
        await moto.reset();
      }

      // Assess
      const expected = ['created', ...Array<string>(7).fill('DBInstanceAlreadyExistsFault')].sort().join(',');
      expect(outcomes).toEqual(Array<string>(5).fill(expected));
    } finally {
      rds.destroy();
      await moto.stop();
    }
  });
});

describe('startMoto', () => {
  it('with outlivesEventLoop, lets the process that started it exit on its own (a jest worker at the end of the run) while moto runs on', async () => {
    // Prepare: a process that starts moto so and does nothing else; an unref'd timer tells whether
    // it is still running 5 s later (its loop held by something)
    const script = `
      const { startMoto } = require(${JSON.stringify(join(__dirname, '../../harness/moto'))});
      startMoto({ outlivesEventLoop: true }).then((m) => {
        process.stdout.write(JSON.stringify({ pid: m.pid, endpoint: m.endpoint }) + '\\n');
        setTimeout(() => { process.stdout.write('still running\\n'); process.exit(0); }, 5000).unref();
      });`;

    // Act
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
      child.on('error', reject);
      child.on('close', () => resolve(text));
    });
    const started = JSON.parse(out.split('\n')[0]!) as { pid: number; endpoint: string };
    let status: number;
    try {
      status = (await fetch(`${started.endpoint}/moto-api/data.json`)).status;
    } finally {
      process.kill(started.pid, 'SIGTERM');
    }

    // Assess: the process ended before the timer; the server it left still answers
    expect(out).not.toContain('still running');
    expect(status).toBe(200);
  });
});
