/**
 * The RDS side of the operator CLI: restore (snapshot or point in time) with progress, backup
 * validation, promotion and an on-demand backup, all through the deployed functions. Each
 * mutating action is shown as a dry-run plan first and asks for confirmation unless `yes`.
 */
import { GuardRailError } from '../../core/errors';
import type { PromoteRestoreResult } from '../../lambda/promote-restore/contract';
import type { RestorePitrResult } from '../../lambda/restore-pitr/contract';
import type { RestoreSnapshotResult } from '../../lambda/restore-snapshot/contract';
import { formatDuration } from '../../core/duration';
import type { RestoreStatusResult } from '../../lambda/restore-status/contract';
import type { ValidateBackupResult } from '../../lambda/validate-backup/contract';
import { RemoteFailureError, expectOk, type Invoker } from './invoke';

/** What the operations need from the terminal; tests pass fakes. */
export interface RdsIo {
  /** Ask a yes/no question; false means stop (nothing changed). */
  confirm(question: string): Promise<boolean>;
  /** One line of progress (to stderr in the CLI). */
  progress(line: string): void;
  sleep(ms: number): Promise<void>;
  /** Aborted on Ctrl-C: stop polling (the restore itself keeps running in AWS). */
  readonly signal?: AbortSignal;
}

export interface PollOptions {
  /** @default 30000 */
  readonly pollIntervalMs?: number;
  /** Stop following after this long (the restore keeps running). @default 4 hours (the RTO) */
  readonly maxWaitMs?: number;
}

export interface RestoreSummary {
  readonly kind: 'snapshot' | 'pitr';
  /** Snapshot id, or the point in time restored to. */
  readonly source: string;
  readonly targetInstanceId: string;
  readonly state: string;
  readonly phase: RestoreStatusResult['phase'] | 'started';
  readonly durationSeconds?: number;
  readonly endpoint?: RestoreStatusResult['endpoint'];
  readonly todo: readonly string[];
  readonly promoteEvent?: RestoreStatusResult['promoteEvent'];
}

function cancelled(what: string): GuardRailError {
  return new GuardRailError(`${what} cancelled at the confirmation prompt; nothing was changed`, {
    hint: 'run it again and answer yes, or pass --yes',
  });
}

function planLines(
  settings: RestoreSnapshotResult['settings'],
  warnings: readonly string[],
  tags?: RestoreSnapshotResult['tags'],
): string[] {
  const storage = settings.storageType
    ? [
        settings.storageType,
        ...(settings.iops !== undefined ? [`${settings.iops} IOPS`] : []),
        ...(settings.storageThroughput !== undefined ? [`${settings.storageThroughput} MiB/s`] : []),
      ].join(', ')
    : '(as the snapshot / RDS default)';
  return [
    `  instance class:   ${settings.dbInstanceClass ?? '(RDS default)'}`,
    `  subnet group:     ${settings.dbSubnetGroupName ?? '(RDS default)'}`,
    `  security groups:  ${settings.vpcSecurityGroupIds.join(', ') || '(RDS default)'}`,
    `  parameter group:  ${settings.dbParameterGroupName ?? '(RDS default)'}`,
    `  option group:     ${settings.optionGroupName ?? '(RDS default)'}`,
    `  storage:          ${storage}`,
    `  IAM auth:         ${settings.iamDatabaseAuthentication === undefined ? '(RDS default: off)' : settings.iamDatabaseAuthentication ? 'on' : 'off'}`,
    // `?? []`, `?.`: a function deployed before these fields existed answers without them.
    `  log exports:      ${(settings.cloudwatchLogsExports ?? []).join(', ') || '(none)'}`,
    `  CA certificate:   ${settings.caCertificateIdentifier ?? '(RDS default)'}`,
    `  encrypted:        ${settings.storageEncrypted ? 'yes' : 'NO'}; deletion protection: on`,
    ...(tags?.copied ? [`  source tags:      ${tags.copied.join(', ') || '(none)'}`] : []),
    ...warnings.map((w) => `  WARNING: ${w}`),
  ];
}

/** Poll restore-status until the instance is available or failed, printing progress. */
export async function followRestore(
  invoke: Invoker,
  io: RdsIo,
  targetInstanceId: string,
  opts: PollOptions = {},
): Promise<RestoreStatusResult> {
  const interval = opts.pollIntervalMs ?? 30_000;
  const maxWait = opts.maxWaitMs ?? 4 * 3600_000;
  let waited = 0;
  let last: RestoreStatusResult;
  for (;;) {
    last = expectOk<RestoreStatusResult>(
      'restore-status',
      await invoke('restore-status', { targetInstanceId }),
    );
    const clock = last.elapsed ? `[${last.elapsed}] ` : '';
    io.progress(`${clock}${last.targetInstanceId}: ${last.state}`);
    if (last.phase !== 'in-progress') return last;
    if (waited + interval > maxWait || io.signal?.aborted) {
      io.progress(
        `stopped following after ${formatDuration(waited)}; the restore continues in AWS: check it with restore-status {"targetInstanceId": "${targetInstanceId}"}`,
      );
      return last;
    }
    await io.sleep(interval);
    waited += interval;
  }
}

function summarize(
  kind: RestoreSummary['kind'],
  source: string,
  targetInstanceId: string,
  status: RestoreStatusResult,
): RestoreSummary {
  return {
    kind,
    source,
    targetInstanceId,
    state: status.state,
    phase: status.phase,
    ...(status.elapsedSeconds !== undefined ? { durationSeconds: status.elapsedSeconds } : {}),
    ...(status.endpoint ? { endpoint: status.endpoint } : {}),
    todo: status.todo,
    ...(status.promoteEvent ? { promoteEvent: status.promoteEvent } : {}),
  };
}

/** `restore-kb.sh --rds --snapshot-id=ID --target-instance=ID`. */
export async function restoreFromSnapshot(
  invoke: Invoker,
  io: RdsIo,
  args: {
    snapshotId: string;
    targetInstanceId: string;
    sourceInstanceId?: string;
    yes: boolean;
  } & PollOptions,
): Promise<RestoreSummary> {
  const event = {
    snapshotId: args.snapshotId,
    targetInstanceId: args.targetInstanceId,
    ...(args.sourceInstanceId ? { sourceInstanceId: args.sourceInstanceId } : {}),
  };
  const plan = expectOk<RestoreSnapshotResult>(
    'restore-snapshot',
    await invoke('restore-snapshot', { ...event, dryRun: true }),
  );
  io.progress(
    [
      `restore ${plan.snapshot.id}${plan.snapshot.resolvedFrom === 'latest' ? ' (latest)' : ''} of ${plan.snapshot.sourceInstanceId ?? '?'} to NEW instance ${plan.targetInstanceId}`,
      ...planLines(plan.settings, plan.warnings, plan.tags),
    ].join('\n'),
  );
  if (!args.yes && !(await io.confirm(`Start restoring ${plan.snapshot.id} to ${plan.targetInstanceId}?`)))
    throw cancelled('restore');
  const started = expectOk<RestoreSnapshotResult>(
    'restore-snapshot',
    await invoke('restore-snapshot', {
      ...event,
      snapshotId: plan.snapshot.id,
      targetInstanceId: plan.targetInstanceId,
      confirm: true,
    }),
  );
  io.progress(
    `restore started at ${started.startedAt ?? 'now'}; following it (Ctrl-C stops following, not the restore)`,
  );
  const status = await followRestore(invoke, io, started.targetInstanceId, args);
  return summarize('snapshot', started.snapshot.id, started.targetInstanceId, status);
}

/** `restore-kb.sh --pitr --target-time=T --target-instance=ID`. */
export async function restoreToPointInTime(
  invoke: Invoker,
  io: RdsIo,
  args: {
    targetTime: string;
    targetInstanceId: string;
    sourceInstanceId?: string;
    yes: boolean;
  } & PollOptions,
): Promise<RestoreSummary> {
  const event = {
    targetTime: args.targetTime,
    targetInstanceId: args.targetInstanceId,
    ...(args.sourceInstanceId ? { sourceInstanceId: args.sourceInstanceId } : {}),
  };
  const plan = expectOk<RestorePitrResult>(
    'restore-pitr',
    await invoke('restore-pitr', { ...event, dryRun: true }),
  );
  io.progress(
    [
      `point-in-time restore of ${plan.sourceInstanceId} to ${plan.restoreTime} (window ${plan.window.earliest} to ${plan.window.latest}${plan.window.source ? `; ${plan.window.source}` : ''}) as NEW instance ${plan.targetInstanceId}`,
      ...planLines(plan.settings, plan.warnings, plan.tags),
    ].join('\n'),
  );
  if (
    !args.yes &&
    !(await io.confirm(
      `Start restoring ${plan.sourceInstanceId} at ${plan.restoreTime} to ${plan.targetInstanceId}?`,
    ))
  )
    throw cancelled('point-in-time restore');
  const started = expectOk<RestorePitrResult>(
    'restore-pitr',
    await invoke('restore-pitr', { ...event, confirm: true }),
  );
  io.progress(
    `restore started at ${started.startedAt ?? 'now'}; following it (Ctrl-C stops following, not the restore)`,
  );
  const status = await followRestore(invoke, io, started.targetInstanceId, args);
  return summarize('pitr', started.restoreTime, started.targetInstanceId, status);
}

/** `validate-backup.sh --rds --snapshot-id=ID`: the report, and whether it passed. */
export async function validateRdsBackup(
  invoke: Invoker,
  snapshotId: string,
): Promise<{ passed: boolean; snapshotId: string; report: readonly string[] }> {
  const res = (await invoke('validate-backup', { snapshotId })) as
    ValidateBackupResult | { ok: false; result?: undefined };
  if ('result' in res && res.result)
    return { passed: res.result === 'PASS', snapshotId: res.snapshotId, report: res.report };
  expectOk('validate-backup', res);
  throw new RemoteFailureError('validate-backup', {
    ok: false,
    error: 'validate-backup returned no report',
    hint: 'check the function logs in /aws/knowledgebase/restore',
    errorType: 'UnexpectedResponse',
    retryable: false,
  });
}

/** `restore-kb.sh --rds --force-production --target-instance=ID`: promote-restore. */
export async function promoteToProduction(
  invoke: Invoker,
  io: RdsIo,
  args: {
    restoredInstanceId: string;
    productionInstanceId: string;
    /** The reason to promote a copy not encrypted like production (promote-restore's override). */
    allowEncryptionMismatch?: string;
    yes: boolean;
  },
): Promise<PromoteRestoreResult> {
  const event = {
    restoredInstanceId: args.restoredInstanceId,
    productionInstanceId: args.productionInstanceId,
    ...(args.allowEncryptionMismatch
      ? { allowEncryptionMismatch: true, reason: args.allowEncryptionMismatch }
      : {}),
  };
  const plan = expectOk<PromoteRestoreResult>(
    'promote-restore',
    await invoke('promote-restore', { ...event, dryRun: true }),
  );
  io.progress(
    [
      'PRODUCTION CHANGE:',
      ...plan.steps.map((s) => `  - ${s}`),
      ...(plan.encryption
        ? [
            `  encryption: ${plan.encryption.matches ? 'same as production' : `MISMATCH: ${plan.encryption.mismatch ?? ''}`}`,
          ]
        : []),
    ].join('\n'),
  );
  if (
    !args.yes &&
    !(await io.confirm(`Serve production ${plan.productionInstanceId} from ${plan.restoredInstanceId}?`))
  )
    throw cancelled('promotion');
  return expectOk<PromoteRestoreResult>(
    'promote-restore',
    await invoke('promote-restore', { ...event, confirm: true, forceProduction: true }),
  );
}

/** `backup-kb.sh --rds`: an on-demand backup through the backup function. */
export async function requestRdsBackup(
  invoke: Invoker,
  io: RdsIo,
  args: { reason: string; yes: boolean },
): Promise<Record<string, unknown>> {
  if (!args.yes && !(await io.confirm(`Request an on-demand RDS snapshot (${args.reason})?`)))
    throw cancelled('backup');
  const res = await invoke('backup', { reason: args.reason });
  return expectOk<Record<string, unknown>>('backup', res);
}

/** The closing summary lines of a restore. */
export function formatRestoreSummary(s: RestoreSummary): string {
  return [
    `restore:   ${s.kind === 'snapshot' ? `snapshot ${s.source}` : `point in time ${s.source}`}`,
    `target:    ${s.targetInstanceId} (${s.state})`,
    `duration:  ${s.durationSeconds !== undefined ? formatDuration(s.durationSeconds * 1000) : 'unknown'}`,
    ...(s.endpoint ? [`endpoint:  ${s.endpoint.address}:${s.endpoint.port}`] : []),
    ...s.todo.map((t, i) => `${i === 0 ? 'next:' : '     '}      ${t}`),
    '',
  ].join('\n');
}

export { RemoteFailureError };
