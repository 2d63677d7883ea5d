/**
 * Start and stop a real moto_server on a free loopback port for integration tests (and the drill).
 * Each caller gets its own server process, stopped by PID, so suites can run in parallel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describeStartError } from './process';
import { currentSearchEnv, requirePythonTool, scriptInterpreter, type SearchEnv } from './toolchain';

/** moto's own server with its access log off and its module list read once (see the file). */
const LAUNCHER = join(__dirname, 'moto-server.py');

/**
 * How to start moto_server: through {@link LAUNCHER} with the Python that runs moto_server's
 * script, else (that Python unknown, e.g. a compiled wrapper) moto_server itself.
 */
export function motoCommand(
  motoServer: string,
  args: readonly string[],
  se: SearchEnv = currentSearchEnv(),
): { cmd: string; args: string[] } {
  const python = existsSync(LAUNCHER) ? scriptInterpreter(motoServer, se) : undefined;
  return python ? { cmd: python, args: [LAUNCHER, ...args] } : { cmd: motoServer, args: [...args] };
}

export interface MotoServer {
  /** e.g. http://127.0.0.1:45123 */
  readonly endpoint: string;
  readonly pid: number;
  /** Environment for the AWS SDK to reach this server (region, dummy credentials, endpoint). */
  readonly env: Record<string, string>;
  /** Wipe all emulated state (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilUp(
  endpoint: string,
  child: ChildProcess,
  command: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `\`${command}\` ${child.signalCode ? `was killed by signal ${child.signalCode}` : `exited with code ${child.exitCode}`} before it was ready`,
      );
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) return;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`\`${command}\` did not answer at ${endpoint} within ${timeoutMs} ms`, {
    cause: lastError,
  });
}

/**
 * Start moto_server, found on the PATH or in pip's/pipx's user folders (harness/toolchain.ts);
 * when it is missing, fails with the command to install it.
 * Pass `applyToProcessEnv: true` to point this process's SDK clients at it.
 */
export async function startMoto(
  options: {
    applyToProcessEnv?: boolean;
    /**
     * Once it is up, the server does not keep this process running (its process and stderr pipe
     * are unref'd): for a server that outlives the code that started it and is stopped by its pid,
     * as jest's per-worker moto is by the global teardown. Without it a jest worker could not exit
     * on its own at the end of the run and was force-exited. @default false
     */
    outlivesEventLoop?: boolean;
  } = {},
): Promise<MotoServer> {
  const moto = requirePythonTool('moto_server');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const run = motoCommand(moto.path, ['-H', '127.0.0.1', '-p', String(port)]);
  const command = [run.cmd, ...run.args].join(' ');
  const child = spawn(run.cmd, run.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e: NodeJS.ErrnoException) => reject(new Error(describeStartError(command, e)))),
  );
  try {
    await Promise.race([waitUntilUp(endpoint, child, command, 30_000), spawnError]);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\nmoto_server stderr:\n${stderr.trim() || '(no output)'}`, {
      cause: e,
    });
  }
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
  };
  if (options.applyToProcessEnv) Object.assign(process.env, env);
  if (options.outlivesEventLoop) {
    child.unref();
    (child.stderr as Socket | null)?.unref();
  }
  const pid = child.pid ?? -1;
  return {
    endpoint,
    pid,
    env,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
