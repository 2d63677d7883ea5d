/**
 * An emulated RDS data plane made of real PostgreSQL, for the drill and the integration tests.
 * moto's RDS keeps records only; this gives them data, the way RDS does it:
 *
 * - the protected instance is a cluster with WAL archiving on (archive_command copies each
 *   finished segment into the archive folder, the emulation of RDS's transaction logs in S3);
 * - a snapshot is a base backup (pg_basebackup -X stream) taken when the snapshot is created;
 * - restoring a snapshot starts a new cluster from that base backup on a free loopback port;
 * - a point-in-time restore starts a cluster from the newest base backup completed before the
 *   target and replays the archived WAL to recovery_target_time, then promotes;
 * - an export writes the snapshot's Knowledge Base tables as Parquet, with RDS's JSON, through a
 *   caller's writeObject (e.g. a PutObject into moto's S3);
 * - endpoints moto reports (Endpoint.Address/Port) are mapped to the local clusters, so a function
 *   that resolves an instance with DescribeDBInstances connects to the right one: `resolve()`.
 *
 * Every line it prints starts with "emulated RDS: ". Never imports jest.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KB_TABLES } from '../lambda/shared/kb-data-checks';
import { clusterRoot } from './cluster-root';
import {
  SUPERUSER,
  alive,
  appendSettings,
  giveToServerUser,
  initCluster,
  logTail,
  mkdirForServer,
  pgBasebackup,
  runAsServer,
  startCluster,
  stopPostmaster,
  withClient,
} from './pg-cluster';
import { exportTables, type ExportResult, type WriteObject } from './rds-export';

export const EMULATION_LABEL = 'emulated RDS';
const DEFAULT_PASSWORD = 'kb-emulated-Secr3t!';

export interface RdsDataPlaneOptions {
  /** Identifier of the protected instance. @default 'kb-prod' */
  readonly instanceId?: string;
  /** The Knowledge Base database created on it. @default 'knowledge_base' */
  readonly database?: string;
  /** Password of the `postgres` user on every cluster. */
  readonly password?: string;
  /** Where lines go; each starts with "emulated RDS: ". @default console.log */
  readonly log?: (line: string) => void;
  /** SQL run on the new database (schema, seed). */
  readonly initSql?: string;
}

/** A running emulated instance. */
export interface EmulatedInstance {
  readonly id: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly pid: number;
  /** How it came to be. */
  readonly origin:
    | { readonly kind: 'protected' }
    | { readonly kind: 'snapshot'; readonly snapshotId: string }
    | { readonly kind: 'point-in-time'; readonly targetTime: Date; readonly baseSnapshotId: string };
}

/** A snapshot: a base backup and the time it completed. */
export interface EmulatedSnapshot {
  readonly id: string;
  /** When the base backup finished: the snapshot holds every transaction committed before it. */
  readonly takenAt: Date;
  readonly dir: string;
  /** Time pg_basebackup took, ms. */
  readonly durationMs: number;
}

interface Instance extends EmulatedInstance {
  readonly dir: string;
  readonly dataDir: string;
}

/** The emulated data plane. Create with startRdsDataPlane; always call stopAll(). */
export class RdsDataPlane {
  private readonly instances = new Map<string, Instance>();
  private readonly snapshots = new Map<string, EmulatedSnapshot>();
  private readonly endpoints = new Map<string, string>();
  private readonly log: (line: string) => void;
  private stopped = false;
  /** Safety net: a process that exits without stopAll() still takes its clusters with it. */
  private readonly onExit = (): void => {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  };

  private constructor(
    readonly root: string,
    readonly archiveDir: string,
    readonly database: string,
    readonly password: string,
    private readonly pwfile: string,
    log: (line: string) => void,
  ) {
    this.log = (line) => log(`${EMULATION_LABEL}: ${line}`);
    process.once('exit', this.onExit);
  }

  /** Create the folders and start the protected instance with WAL archiving. */
  static async start(options: RdsDataPlaneOptions = {}): Promise<RdsDataPlane> {
    const root = mkdtempSync(join(clusterRoot(), 'kb-rds-emu-'));
    chmodSync(root, 0o755);
    giveToServerUser(root);
    const password = options.password ?? DEFAULT_PASSWORD;
    const pwfile = join(root, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    giveToServerUser(pwfile);
    const plane = new RdsDataPlane(
      root,
      mkdirForServer(join(root, 'wal-archive')),
      options.database ?? 'knowledge_base',
      password,
      pwfile,
      options.log ?? ((line) => console.log(line)),
    );
    mkdirForServer(join(root, 'snapshots'));
    mkdirForServer(join(root, 'instances'));
    try {
      await plane.startProtected(options.instanceId ?? 'kb-prod', options.initSql);
    } catch (err) {
      await plane.stopAll();
      throw err;
    }
    return plane;
  }

  private async startProtected(id: string, initSql: string | undefined): Promise<void> {
    const dir = mkdirForServer(join(this.root, 'instances', id));
    const dataDir = join(dir, 'data');
    initCluster(dataDir, this.pwfile);
    appendSettings(dataDir, {
      wal_level: 'replica',
      archive_mode: 'on',
      // never overwrite an archived segment, as RDS never rewrites its logs
      archive_command: `test ! -f ${this.archiveDir}/%f && cp %p ${this.archiveDir}/%f`,
      max_wal_senders: 4,
      fsync: 'off',
      synchronous_commit: 'off',
    });
    const running = await startCluster(dataDir, dir);
    const instance = this.register(id, dir, dataDir, running.port, running.pid, { kind: 'protected' });
    await withClient(running.port, this.password, 'postgres', (c) =>
      c.query(`CREATE DATABASE "${this.database}"`),
    );
    if (initSql) await withClient(running.port, this.password, this.database, (c) => c.query(initSql));
    this.log(
      `protected instance ${id} is PostgreSQL on 127.0.0.1:${instance.port} with WAL archiving to ${this.archiveDir}`,
    );
  }

  private register(
    id: string,
    dir: string,
    dataDir: string,
    port: number,
    pid: number,
    origin: EmulatedInstance['origin'],
  ): Instance {
    const instance: Instance = {
      id,
      host: '127.0.0.1',
      port,
      database: this.database,
      user: SUPERUSER,
      password: this.password,
      pid,
      origin,
      dir,
      dataDir,
    };
    this.instances.set(id, instance);
    return instance;
  }

  /** The protected instance. */
  get protectedInstance(): EmulatedInstance {
    const p = [...this.instances.values()].find((i) => i.origin.kind === 'protected');
    if (!p)
      throw new Error(`${EMULATION_LABEL}: the protected instance is not running (stopAll was called?)`);
    return p;
  }

  /** A running instance by id. */
  instance(id: string): EmulatedInstance {
    const i = this.instances.get(id);
    if (!i)
      throw new Error(
        `${EMULATION_LABEL}: no instance ${id}; running: ${[...this.instances.keys()].join(', ') || 'none'}`,
      );
    return i;
  }

  /** Snapshots taken so far, oldest first. */
  listSnapshots(): EmulatedSnapshot[] {
    return [...this.snapshots.values()].sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime());
  }

  private assertNewInstanceId(id: string): void {
    this.assertRunning();
    if (!/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(id))
      throw new Error(
        `${EMULATION_LABEL}: "${id}" is not a valid instance identifier (letters, digits, hyphens; starts with a letter)`,
      );
    if (this.instances.has(id))
      throw new Error(`${EMULATION_LABEL}: instance ${id} already exists (DBInstanceAlreadyExists)`);
  }

  private assertRunning(): void {
    if (this.stopped) throw new Error(`${EMULATION_LABEL}: the data plane was stopped`);
  }

  /** Take a snapshot of the protected instance: a base backup, its completion time recorded. */
  async snapshot(id: string): Promise<EmulatedSnapshot> {
    this.assertRunning();
    if (this.snapshots.has(id))
      throw new Error(`${EMULATION_LABEL}: snapshot ${id} already exists (DBSnapshotAlreadyExists)`);
    const source = this.protectedInstance as Instance;
    const dir = join(this.root, 'snapshots', id);
    const started = Date.now();
    runAsServer(pgBasebackup(), [
      '-h',
      source.dir,
      '-p',
      String(source.port),
      '-U',
      SUPERUSER,
      '-D',
      dir,
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ]);
    const snap: EmulatedSnapshot = { id, takenAt: new Date(), dir, durationMs: Date.now() - started };
    this.snapshots.set(id, snap);
    this.log(
      `snapshot ${id} is a base backup of ${source.id} completed at ${snap.takenAt.toISOString()} (${snap.durationMs} ms)`,
    );
    return snap;
  }

  /** Copy a base backup into a new instance folder; returns the folder and its data folder. */
  private cloneBackup(snap: EmulatedSnapshot, newId: string): { dir: string; dataDir: string } {
    const dir = mkdirForServer(join(this.root, 'instances', newId));
    const dataDir = join(dir, 'data');
    runAsServer('cp', ['-a', snap.dir, dataDir]);
    // A restored instance does not archive into the protected instance's log archive.
    appendSettings(dataDir, { archive_mode: 'off', fsync: 'off' });
    return { dir, dataDir };
  }

  /** Restore a snapshot to a new instance: a cluster started from its base backup. */
  async restoreSnapshot(snapshotId: string, newId: string): Promise<EmulatedInstance> {
    this.assertNewInstanceId(newId);
    const snap = this.snapshots.get(snapshotId);
    if (!snap)
      throw new Error(
        `${EMULATION_LABEL}: snapshot ${snapshotId} not found (DBSnapshotNotFound); snapshots: ${
          this.listSnapshots()
            .map((s) => s.id)
            .join(', ') || 'none'
        }`,
      );
    const { dir, dataDir } = this.cloneBackup(snap, newId);
    const running = await startCluster(dataDir, dir);
    const instance = this.register(newId, dir, dataDir, running.port, running.pid, {
      kind: 'snapshot',
      snapshotId,
    });
    this.log(`instance ${newId} restored from snapshot ${snapshotId} on 127.0.0.1:${running.port}`);
    return instance;
  }

  /**
   * Close the current WAL segment of the protected instance and wait until it is archived; returns
   * the latest restorable time (every transaction committed before it is in the archive). A
   * marker transaction writes a commit record after that time, so that a replay to any earlier
   * target finds a commit past the target, as a busy RDS instance always has.
   */
  async archiveCurrentWal(): Promise<Date> {
    this.assertRunning();
    const source = this.protectedInstance;
    const latest = new Date();
    await new Promise((r) => setTimeout(r, 5)); // the marker commits strictly after `latest`
    const segment = await withClient(source.port, this.password, 'postgres', async (c) => {
      await c.query('SELECT txid_current()');
      const res = await c.query<{ wal: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS wal');
      return res.rows[0]?.wal ?? '';
    });
    const file = join(this.archiveDir, segment);
    for (let waited = 0; !existsSync(file); waited += 50) {
      if (waited > 60_000)
        throw new Error(
          `${EMULATION_LABEL}: WAL segment ${segment} was not archived within 60 s; archiver log: ${logTail(join((source as Instance).dir, 'server.log'))}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
    return latest;
  }

  /**
   * Point-in-time restore: a cluster from the newest base backup completed at or before
   * `targetTime`, replaying archived WAL to it (recovery_target_time, inclusive), then promoted.
   * Refuses a target before the first snapshot or after the latest archived point.
   */
  async restoreToPointInTime(targetTime: Date, newId: string): Promise<EmulatedInstance> {
    this.assertNewInstanceId(newId);
    if (Number.isNaN(targetTime.getTime()))
      throw new Error(`${EMULATION_LABEL}: the target time is not a valid date`);
    const snaps = this.listSnapshots();
    const first = snaps[0];
    if (!first)
      throw new Error(
        `${EMULATION_LABEL}: no base backup yet, so no point in time is restorable; take a snapshot first (the earliest restorable time is the first backup's)`,
      );
    if (targetTime < first.takenAt)
      throw new Error(
        `${EMULATION_LABEL}: target ${targetTime.toISOString()} is before the earliest restorable time ${first.takenAt.toISOString()} (the first base backup); choose a later target`,
      );
    const latest = await this.archiveCurrentWal();
    if (targetTime > latest)
      throw new Error(
        `${EMULATION_LABEL}: target ${targetTime.toISOString()} is after the latest restorable time ${latest.toISOString()} (the last archived WAL); choose an earlier target`,
      );
    const base = [...snaps].reverse().find((s) => s.takenAt <= targetTime) ?? first;
    const started = Date.now();
    const { dir, dataDir } = this.cloneBackup(base, newId);
    appendSettings(dataDir, {
      restore_command: `cp ${this.archiveDir}/%f %p`,
      // `2026-11-27 15:46:56.347+00`: the recovery_target_time check refuses ISO 8601's T and Z
      recovery_target_time: targetTime.toISOString().replace('T', ' ').replace('Z', '+00'),
      recovery_target_inclusive: 'on',
      recovery_target_action: 'promote',
    });
    writeFileSync(join(dataDir, 'recovery.signal'), '');
    giveToServerUser(join(dataDir, 'recovery.signal'));
    const running = await startCluster(dataDir, dir);
    const instance = this.register(newId, dir, dataDir, running.port, running.pid, {
      kind: 'point-in-time',
      targetTime,
      baseSnapshotId: base.id,
    });
    // The server accepts connections while it still replays: wait for the promotion.
    for (let waited = 0; ; waited += 100) {
      const inRecovery = await withClient(
        running.port,
        this.password,
        'postgres',
        async (c) => (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r,
      ).catch((err: Error) => {
        if (!alive(running.pid))
          throw new Error(
            `${EMULATION_LABEL}: point-in-time restore ${newId} stopped: ${logTail(join(dir, 'server.log'))}`,
            {
              cause: err,
            },
          );
        return true;
      });
      if (inRecovery === false) break;
      if (waited > 120_000)
        throw new Error(
          `${EMULATION_LABEL}: point-in-time restore ${newId} still replaying after 120 s: ${logTail(join(dir, 'server.log'))}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    this.log(
      `instance ${newId} restored to ${targetTime.toISOString()} from base backup ${base.id} plus archived WAL on 127.0.0.1:${running.port} (${Date.now() - started} ms)`,
    );
    return instance;
  }

  /**
   * Export a snapshot's Knowledge Base tables (read from a temporary cluster started from its base
   * backup) as Parquet plus RDS's JSON, under `<prefix>/<taskId>/`, through `writeObject`.
   */
  async exportSnapshot(
    snapshotId: string,
    taskId: string,
    writeObject: WriteObject,
    options: { readonly prefix?: string; readonly sourceArn?: string } = {},
  ): Promise<ExportResult> {
    const snap = this.snapshots.get(snapshotId);
    if (!snap) throw new Error(`${EMULATION_LABEL}: snapshot ${snapshotId} not found (DBSnapshotNotFound)`);
    const tempId = `export-${taskId}`.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 63);
    const temp = await this.restoreSnapshot(snapshotId, tempId);
    try {
      const result = await withClient(temp.port, this.password, this.database, (c) =>
        exportTables(c, {
          database: this.database,
          tables: [KB_TABLES.entries, KB_TABLES.cache],
          taskId,
          prefix: options.prefix ?? 'exports',
          sourceArn: options.sourceArn ?? `arn:aws:rds:us-east-1:123456789012:snapshot:${snapshotId}`,
          snapshotTime: snap.takenAt,
          writeObject,
        }),
      );
      this.log(
        `export ${taskId} of snapshot ${snapshotId}: ${result.tables.map((t) => `${t.target} ${t.rows} rows`).join(', ')} as Parquet`,
      );
      return result;
    } finally {
      await this.stopInstance(tempId);
    }
  }

  /** Map an endpoint moto reports for `instanceId` (Endpoint.Address/Port) to its local cluster. */
  mapEndpoint(address: string, port: number, instanceId: string): void {
    this.instance(instanceId);
    this.endpoints.set(`${address.toLowerCase()}:${port}`, instanceId);
    this.log(
      `endpoint ${address}:${port} is instance ${instanceId} on 127.0.0.1:${this.instance(instanceId).port}`,
    );
  }

  /** Where an emulated endpoint really is; throws for an endpoint that was never mapped. */
  resolve(address: string, port: number): { host: string; port: number; instanceId: string } {
    const id = this.endpoints.get(`${address.toLowerCase()}:${port}`);
    if (!id)
      throw new Error(
        `${EMULATION_LABEL}: no cluster behind endpoint ${address}:${port}; mapped: ${[...this.endpoints.keys()].join(', ') || 'none'}`,
      );
    const i = this.instance(id);
    return { host: i.host, port: i.port, instanceId: id };
  }

  /** Stop one instance and remove its folder (a deleted DB instance). */
  async stopInstance(id: string): Promise<void> {
    const i = this.instances.get(id);
    if (!i) return;
    await stopPostmaster(i.pid);
    this.instances.delete(id);
    for (const [endpoint, target] of this.endpoints) if (target === id) this.endpoints.delete(endpoint);
    rmSync(i.dir, { recursive: true, force: true });
  }

  /** PIDs of the running postmasters. */
  pids(): number[] {
    return [...this.instances.values()].map((i) => i.pid);
  }

  /** Stop every cluster this data plane started and remove all its folders. */
  async stopAll(): Promise<void> {
    this.stopped = true;
    process.removeListener('exit', this.onExit);
    const ids = [...this.instances.keys()];
    await Promise.all(ids.map((id) => this.stopInstance(id)));
    rmSync(this.root, { recursive: true, force: true });
    this.log(`stopped ${ids.length} cluster(s) and removed ${this.root}`);
  }
}

/** Start an emulated data plane (the protected instance with WAL archiving). */
export function startRdsDataPlane(options: RdsDataPlaneOptions = {}): Promise<RdsDataPlane> {
  return RdsDataPlane.start(options);
}
