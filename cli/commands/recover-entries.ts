/**
 * `kb-dr recover-entries (--backup-file=FILE | --from-instance=kb-restore-...) [selection]
 * [--confirm] [--json]`: copy the entries missing from the live database back from a recovery
 * source; a dry run unless --confirm. See cli/local/recover-entries.ts for what it guarantees.
 */
import { readFileSync } from 'node:fs';
// The AWS SDK loads only for --from-instance without --source-host.
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Command } from 'commander';
import { KbDrError, ValidationError } from '../../core/errors';
import type { KbConnectionConfig } from '../../lambda/shared/kb-data-checks';
import { formatDuration } from '../../core/duration';
import { LOCAL_ENV, resolveConnection } from '../local/connection';
import type { RecoverReport, RecoverSource } from '../local/recover-entries';
import { parseSelection, parseZonedTime, type Selection } from '../local/recovery-selection';
import type { CliContext } from '../shared/context';
import { isRestoredInstanceId, refuseFlags, restorePrefixOf } from '../plans/checks';

/** Password of the restored instance (never a command-line option). */
export const SOURCE_PASSWORD_ENV = 'KB_SOURCE_DB_PASSWORD';

export interface RecoverEntriesFlags {
  backupFile?: string;
  fromInstance?: string;
  sourceHost?: string;
  sourcePort?: string;
  sourceDatabase?: string;
  sourceUser?: string;
  sourceCaFile?: string;
  sourceNoTls?: boolean;
  sourceTime?: string;
  ids?: string;
  tag?: string;
  createdAfter?: string;
  createdBefore?: string;
  confirm?: boolean;
  force?: boolean;
  targetDatabase?: string;
  allowOtherTarget?: boolean;
  skipCache?: boolean;
  allowSmall?: boolean;
  trustedFile?: boolean;
  json?: boolean;
}

/** Where the entries are read from. */
export type RecoverSourcePlan =
  | {
      readonly kind: 'backup-file';
      readonly file: string;
      readonly allowSmall: boolean;
      readonly trustedFile: boolean;
    }
  | {
      readonly kind: 'instance';
      /** A restored instance (restore prefix), never production. */
      readonly instanceId: string;
      /** --source-host; without it the endpoint comes from DescribeDBInstances. */
      readonly host?: string;
      readonly port?: number;
      readonly database?: string;
      readonly user?: string;
      readonly caFile?: string;
      /** Only with a loopback host. */
      readonly noTls: boolean;
      readonly sourceTime?: Date;
    };

export interface RecoverEntriesPlan {
  readonly source: RecoverSourcePlan;
  readonly selection: Selection;
  readonly targetDatabase?: string;
  readonly allowOtherTarget: boolean;
  /** False: a dry run. */
  readonly confirm: boolean;
  readonly force: boolean;
  readonly includeCache: boolean;
  readonly json: boolean;
}

const EXAMPLES =
  'e.g. `npx kb-dr recover-entries --backup-file=backups/kb-backup-20261122-020000.sql.gz --tag=topic-3` or `npx kb-dr recover-entries --from-instance=kb-restore-recover-20261122-020000 --ids=1042,1043`';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The plan for `recover-entries`: every check of its flags, before it touches anything. */
export function planRecoverEntries(flags: RecoverEntriesFlags, env: CliContext['env']): RecoverEntriesPlan {
  if (Boolean(flags.backupFile) === Boolean(flags.fromInstance)) {
    throw new ValidationError(
      'recover-entries: pass exactly one source: --backup-file=FILE or --from-instance=ID',
      'source',
      {
        hint: EXAMPLES,
      },
    );
  }
  const instanceOnly = [
    'sourceHost',
    'sourcePort',
    'sourceDatabase',
    'sourceUser',
    'sourceCaFile',
    'sourceNoTls',
    'sourceTime',
  ] as const;
  if (flags.backupFile) {
    const given = instanceOnly.filter((k) => flags[k] !== undefined);
    if (given.length > 0) {
      throw new ValidationError(
        `recover-entries: --${given[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --from-instance, not --backup-file`,
        'source',
        { hint: EXAMPLES },
      );
    }
  } else {
    refuseFlags(
      'recover-entries',
      flags,
      ['allowSmall', 'trustedFile'],
      '--from-instance (they concern a backup file)',
      EXAMPLES,
    );
  }
  let sourcePort: number | undefined;
  if (flags.fromInstance !== undefined) {
    if (!isRestoredInstanceId(flags.fromInstance, env)) {
      const prefix = restorePrefixOf(env);
      throw new ValidationError(
        `recover-entries: --from-instance=${flags.fromInstance} is not a restored instance (${prefix}...): recover from a restored copy, never from production`,
        '--from-instance',
        { hint: 'restore one first (`npx kb-dr find-backup --rds --before=TIME` prints the command)' },
      );
    }
    if (flags.sourcePort !== undefined) {
      sourcePort = Number(flags.sourcePort);
      if (!Number.isInteger(sourcePort) || sourcePort < 1 || sourcePort > 65535) {
        throw new ValidationError(
          `recover-entries: --source-port=${flags.sourcePort} is not a TCP port`,
          '--source-port',
          {
            hint: 'e.g. --source-port=5432',
          },
        );
      }
    }
    if (flags.sourceNoTls && !(flags.sourceHost && LOOPBACK.has(flags.sourceHost))) {
      throw new ValidationError(
        'recover-entries: --source-no-tls is accepted only for a loopback --source-host (an emulator or a tunnel); a restored instance is read over TLS',
        '--source-no-tls',
        { hint: 'remove --source-no-tls, or pass --source-ca-file=FILE with the RDS certificate bundle' },
      );
    }
  }
  const selection = parseSelection(flags);
  const sourceTime =
    flags.sourceTime === undefined ? undefined : parseZonedTime(flags.sourceTime, '--source-time');
  if (flags.allowOtherTarget && !flags.targetDatabase) {
    throw new ValidationError(
      'recover-entries: --allow-other-target goes with --target-database=NAME',
      '--allow-other-target',
      {
        hint: 'remove it to recover into the configured live database',
      },
    );
  }
  const source: RecoverSourcePlan = flags.backupFile
    ? {
        kind: 'backup-file',
        file: flags.backupFile,
        allowSmall: flags.allowSmall ?? false,
        trustedFile: flags.trustedFile ?? false,
      }
    : {
        kind: 'instance',
        instanceId: flags.fromInstance!,
        ...(flags.sourceHost ? { host: flags.sourceHost } : {}),
        ...(sourcePort !== undefined ? { port: sourcePort } : {}),
        ...(flags.sourceDatabase ? { database: flags.sourceDatabase } : {}),
        ...(flags.sourceUser ? { user: flags.sourceUser } : {}),
        ...(flags.sourceCaFile ? { caFile: flags.sourceCaFile } : {}),
        noTls: flags.sourceNoTls ?? false,
        ...(sourceTime ? { sourceTime } : {}),
      };
  return {
    source,
    selection,
    ...(flags.targetDatabase ? { targetDatabase: flags.targetDatabase } : {}),
    allowOtherTarget: flags.allowOtherTarget ?? false,
    confirm: flags.confirm ?? false,
    force: flags.force ?? false,
    includeCache: !flags.skipCache,
    json: flags.json ?? false,
  };
}

/** Endpoint of a restored instance: the flags, else DescribeDBInstances (read-only). */
async function instanceEndpoint(rds: RDSClient, instanceId: string): Promise<{ host: string; port: number }> {
  const { DescribeDBInstancesCommand } = await import('@aws-sdk/client-rds');
  const { translateAwsError } = await import('../../lambda/shared/aws-errors');
  let res;
  try {
    res = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId }));
  } catch (err) {
    throw translateAwsError(err, {
      operation: `describe ${instanceId}`,
      notFoundHint: 'check the id with restore-status',
    });
  }
  const i = res.DBInstances?.[0];
  if (!i?.Endpoint?.Address || !i.Endpoint.Port || i.DBInstanceStatus !== 'available') {
    throw new KbDrError(`${instanceId} is ${i?.DBInstanceStatus ?? 'unknown'} without an endpoint yet`, {
      hint: 'wait until restore-status says available, or pass --source-host and --source-port; nothing was changed',
      retryable: true,
    });
  }
  return { host: i.Endpoint.Address, port: i.Endpoint.Port };
}

export function formatRecoverReport(r: RecoverReport): string {
  const ids = (list: readonly string[]) =>
    list.length === 0
      ? 'none'
      : `${list.slice(0, 20).join(', ')}${list.length > 20 ? ` (and ${list.length - 20} more; --json lists all)` : ''}`;
  const lines = [
    `${r.mode === 'dry-run' ? 'DRY RUN (nothing written; add --confirm to insert)' : 'RECOVERED'}`,
    `source:    ${r.source.kind} ${r.source.name}, holds ${r.source.time} (${r.source.timeFrom}; ${r.source.ageDays} days ago)`,
    `target:    ${r.target}`,
    `selection: ${r.selection}: ${r.selected} entries in the source`,
    ...(r.mappedColumns.length > 0
      ? [`mapped:    ${r.mappedColumns.join(', ')} (not in the source: default or NULL)`]
      : []),
    `missing:   ${r.missing} ${r.mode === 'dry-run' ? 'would be inserted' : 'missing at the start'}: ids ${ids(r.missingIds)}`,
    ...r.sample.map((s, i) => `${i === 0 ? 'sample:' : '       '}    ${s.id}  ${s.title}`),
    ...(r.mode === 'confirmed' ? [`inserted:  ${r.inserted}`] : []),
    ...(r.raced > 0 ? [`written meanwhile by others (kept as they are): ${r.raced}`] : []),
    `already present: ${r.alreadyPresent}`,
    `skipped as changed since the backup (untouched): ${r.skippedChanged}${r.skippedChanged > 0 ? `: ids ${ids(r.changedIds)}` : ''}`,
    `embedding_cache: ${r.cache.included ? `${r.cache.missing} missing${r.mode === 'confirmed' ? `, ${r.cache.inserted} inserted` : ''}` : 'not copied'}`,
    ...(r.sequenceAdvancedTo
      ? [`sequence:  knowledge_entries id sequence moved to ${r.sequenceAdvancedTo}`]
      : []),
    ...(r.scratchDatabase
      ? [
          `scratch:   ${r.scratchDatabase.name} ${r.scratchDatabase.dropped ? 'dropped' : 'NOT dropped: drop it by hand'}`,
        ]
      : []),
    ...(r.leftoversDropped.length > 0
      ? [`cleaned:   dropped ${r.leftoversDropped.join(', ')} left by an interrupted recovery`]
      : []),
    `duration:  ${formatDuration(r.durationMs)}`,
    '',
  ];
  return lines.join('\n');
}

export interface RecoverEntriesDeps {
  readonly rds?: RDSClient;
}

export async function runRecoverEntries(
  ctx: CliContext,
  plan: RecoverEntriesPlan,
  deps: RecoverEntriesDeps = {},
): Promise<number> {
  const conn = resolveConnection(ctx.env);
  // Loaded when it runs: `--help` and refused command lines start without it (bench/startup.ts).
  const { retentionDaysFrom } = await import('../local/prune');
  const retentionDays = retentionDaysFrom(ctx.env);
  let source: RecoverSource;
  if (plan.source.kind === 'backup-file') {
    source = plan.source;
  } else {
    const from = plan.source;
    const endpoint = from.host
      ? { host: from.host, port: from.port ?? 5432 }
      : await instanceEndpoint(
          deps.rds ?? new (await import('@aws-sdk/client-rds')).RDSClient({ maxAttempts: 3 }),
          from.instanceId,
        );
    const password = ctx.env[SOURCE_PASSWORD_ENV] ?? conn.password ?? ctx.env.PGPASSWORD;
    const config: KbConnectionConfig = {
      host: endpoint.host,
      port: from.port ?? endpoint.port,
      database: from.database ?? conn.database,
      user: from.user ?? conn.user ?? 'postgres',
      ...(password !== undefined ? { password } : {}),
      ...(from.noTls
        ? {}
        : {
            ssl: {
              rejectUnauthorized: true as const,
              ...(from.caFile ? { ca: readFileSync(from.caFile) } : {}),
            },
          }),
    };
    source = {
      kind: 'instance',
      instanceId: from.instanceId,
      config,
      ...(from.sourceTime ? { sourceTime: from.sourceTime } : {}),
    };
  }
  const { recoverEntries } = await import('../local/recover-entries');
  const report = await recoverEntries({
    conn,
    ...(plan.targetDatabase ? { targetDatabase: plan.targetDatabase } : {}),
    allowOtherTarget: plan.allowOtherTarget,
    source,
    selection: plan.selection,
    confirm: plan.confirm,
    force: plan.force,
    retentionDays,
    includeCache: plan.includeCache,
    logger: ctx.logger,
    signal: ctx.signal,
  });
  ctx.stdout.write(plan.json ? `${JSON.stringify(report, null, 2)}\n` : formatRecoverReport(report));
  return 0;
}

export function registerRecoverEntriesCommand(
  program: Command,
  ctx: CliContext,
  exit: (code: number) => void,
): void {
  program
    .command('recover-entries')
    .description(
      'copy entries missing from the live database back from a backup file or a restored instance (dry run unless --confirm; never overwrites or deletes)',
    )
    .option(
      '--backup-file <file>',
      'source: a local kb-backup-*.sql.gz (validated, loaded into a scratch database, dropped after)',
    )
    .option(
      '--from-instance <id>',
      'source: a restored RDS instance (kb-restore-...), read over TLS, read-only',
    )
    .option('--source-host <host>', 'with --from-instance: its endpoint (default: DescribeDBInstances)')
    .option('--source-port <port>', 'with --from-instance: its port (default: the endpoint port, or 5432)')
    .option(
      '--source-database <name>',
      `with --from-instance: the database on it (default: $${LOCAL_ENV.database})`,
    )
    .option(
      '--source-user <user>',
      `with --from-instance: the user (default: $${LOCAL_ENV.user}); password in $${SOURCE_PASSWORD_ENV}`,
    )
    .option(
      '--source-ca-file <file>',
      'with --from-instance: PEM bundle to verify its certificate (the RDS CA bundle)',
    )
    .option(
      '--source-no-tls',
      'with --from-instance on a loopback --source-host only: no TLS (emulator, tunnel)',
    )
    .option(
      '--source-time <time>',
      'with --from-instance: the point in time it was restored to (ISO with zone)',
    )
    .option('--ids <list>', 'only these entry ids: 1042,1043,2000-2010')
    .option('--tag <tag>', 'only entries carrying this tag')
    .option('--created-after <time>', 'only entries created at or after this time (ISO with zone)')
    .option('--created-before <time>', 'only entries created before this time (ISO with zone)')
    .option('--confirm', 'insert (one transaction); without it, a dry run that changes nothing')
    .option('--force', 'accept a source older than the retention window ($KB_BACKUP_RETENTION_DAYS)')
    .option('--target-database <name>', `insert into this database instead of $${LOCAL_ENV.database}`)
    .option('--allow-other-target', 'with --target-database: yes, write into that other database')
    .option('--skip-cache', 'do not copy embedding_cache rows')
    .option('--allow-small', 'with --backup-file: accept a backup much smaller than the previous ones')
    .option('--trusted-file', "with --backup-file: accept a dump without pg_dump's \\restrict guard")
    .option('--json', 'print the report as JSON')
    .action(async (flags: RecoverEntriesFlags) =>
      exit(await runRecoverEntries(ctx, planRecoverEntries(flags, ctx.env))),
    );
}
