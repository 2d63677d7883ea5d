/**
 * The CLI's RDS operations driving the real handlers in-process against moto_server (moto's
 * Lambda cannot run Node functions here, so the invoker calls the handler directly).
 */
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { Invoker, RdsFunction } from '../../../cli/rds/invoke';
import {
  formatRestoreSummary,
  promoteToProduction,
  restoreFromSnapshot,
  restoreToPointInTime,
  validateRdsBackup,
} from '../../../cli/rds/operations';
import type { MotoServer } from '../../../harness/moto';
import { sharedMoto } from '../../support/shared-services';
import {
  applyEnv,
  clients,
  seedBackup,
  seedProtectedInstance,
  type Seeder,
} from '../../integration/restore-fixtures';
import { fakeIo } from './fake-session';

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;
const PROD = 'kb-prod-cli';
let moto: MotoServer;
let seeder: Seeder;
let rds: RDSClient;
let invoke: Invoker;
const calls: [RdsFunction, Record<string, unknown>][] = [];

const io = fakeIo;

async function exists(id: string): Promise<boolean> {
  try {
    await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  moto = await sharedMoto();
  applyEnv(moto, 'kb-cli-backups', PROD);
  seeder = { ...clients(moto), bucket: 'kb-cli-backups', prodId: PROD };
  ({ rds } = clients(moto));
  await seedProtectedInstance(seeder);
  const handlers: Partial<Record<RdsFunction, Handler>> = {
    'restore-snapshot': (await import('../../../lambda/restore-snapshot')).handler as Handler,
    'restore-pitr': (await import('../../../lambda/restore-pitr')).handler as Handler,
    'restore-status': (await import('../../../lambda/restore-status')).handler as Handler,
    'validate-backup': (await import('../../../lambda/validate-backup')).handler as Handler,
    'promote-restore': (await import('../../../lambda/promote-restore')).handler as Handler,
  };
  invoke = async (fn, event) => {
    calls.push([fn, { ...event }]);
    const h = handlers[fn];
    if (!h) throw new Error(`no in-process handler for ${fn}`);
    return h(JSON.parse(JSON.stringify(event)), { getRemainingTimeInMillis: () => 900_000 });
  };
});

afterAll(async () => {
  await moto?.stop();
});

beforeEach(() => {
  calls.length = 0;
});

describe('restore-kb.sh --rds (cli/rds against the real handlers)', () => {
  it('shows the plan, restores after --yes, follows to available and summarises', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261120-020000');
    const term = io();
    const summary = await restoreFromSnapshot(invoke, term, {
      snapshotId: 'kb-snapshot-20261120-020000',
      targetInstanceId: 'kb-restore-cli-1',
      yes: true,
    });
    expect(calls.map(([fn, e]) => [fn, e.dryRun ?? e.confirm ?? null])).toEqual([
      ['restore-snapshot', true],
      ['restore-snapshot', true],
      ['restore-status', null],
    ]);
    expect(calls[0]?.[1]).toMatchObject({ dryRun: true });
    expect(calls[1]?.[1]).toMatchObject({ confirm: true });
    expect(term.questions).toEqual([]);
    expect(term.lines[0]).toMatch(/to NEW instance kb-restore-cli-1\n {2}instance class: {3}db\.r6g\.large/);
    expect(summary).toMatchObject({
      kind: 'snapshot',
      phase: 'available',
      targetInstanceId: 'kb-restore-cli-1',
    });
    expect(formatRestoreSummary(summary)).toMatch(
      /^restore: {3}snapshot kb-snapshot-20261120-020000\ntarget: {4}kb-restore-cli-1 \(available\)\nduration: {2}\d+m?s/,
    );
  });

  it('changes nothing when the operator answers no', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261121-020000');
    const term = io(false);
    await expect(
      restoreFromSnapshot(invoke, term, {
        snapshotId: 'latest',
        targetInstanceId: 'kb-restore-cli-no',
        yes: false,
      }),
    ).rejects.toThrow(/cancelled at the confirmation prompt; nothing was changed/);
    expect(term.questions).toHaveLength(1);
    expect(calls.filter(([, e]) => e.confirm === true)).toEqual([]);
    expect(await exists('kb-restore-cli-no')).toBe(false);
  });

  it("exits 2 with the function's sentence when the target is production", async () => {
    await seedBackup(seeder, 'kb-snapshot-20261122-020000');
    const err = (await restoreFromSnapshot(invoke, io(), {
      snapshotId: 'kb-snapshot-20261122-020000',
      targetInstanceId: PROD,
      yes: true,
    }).catch((e: unknown) => e)) as { exitCode: number; message: string };
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/is a production instance/);
    expect(calls).toHaveLength(1);
  });

  it('restores to a point in time inside the window', async () => {
    const summary = await restoreToPointInTime(invoke, io(), {
      targetTime: 'latest',
      targetInstanceId: 'kb-restore-cli-pitr',
      yes: true,
    });
    expect(summary).toMatchObject({ kind: 'pitr', phase: 'available' });
    expect(await exists('kb-restore-cli-pitr')).toBe(true);
  });
});

describe('validate-backup.sh --rds and --force-production', () => {
  it('reports PASS for a good backup', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261123-020000');
    const res = await validateRdsBackup(invoke, 'kb-snapshot-20261123-020000');
    expect(res.passed).toBe(true);
    expect(res.report.length).toBeGreaterThan(5);
  });

  it("reports FAIL for a backup that is not tagged as kb-dr's", async () => {
    await seedBackup(seeder, 'kb-snapshot-20261124-020000', { managed: false });
    const res = await validateRdsBackup(invoke, 'kb-snapshot-20261124-020000');
    expect(res.passed).toBe(false);
    expect(res.report.filter((l) => l.startsWith('FAIL'))).toHaveLength(1);
  });

  it('promotes through promote-restore with forceProduction only after the plan', async () => {
    await seedBackup(seeder, 'kb-snapshot-20261125-020000');
    await restoreFromSnapshot(invoke, io(), {
      snapshotId: 'kb-snapshot-20261125-020000',
      targetInstanceId: 'kb-restore-cli-promote',
      yes: true,
    });
    calls.length = 0;
    const res = await promoteToProduction(invoke, io(), {
      restoredInstanceId: 'kb-restore-cli-promote',
      productionInstanceId: PROD,
      yes: true,
    });
    expect(calls.map(([fn, e]) => [fn, Boolean(e.dryRun), Boolean(e.forceProduction)])).toEqual([
      ['promote-restore', true, false],
      ['promote-restore', false, true],
    ]);
    expect(res.action).toBe('promoted');
    expect(await exists(String(res.asideInstanceId))).toBe(true);
  });
});
