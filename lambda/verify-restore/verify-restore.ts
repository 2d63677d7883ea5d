/**
 * verify-restore: run the Knowledge Base data checks against a restored kb-restore-* instance and
 * store the result (core/verification.ts) where restore-status, the CLI and the weekly restore
 * test read it.
 *
 * - Only a kb-dr restore is ever connected to: the id must carry the restore prefix, must not be a
 *   production id, and the instance must carry kb-dr's tags saying what it was restored from.
 * - Snapshot restore: the counts must equal the backup's recorded counts (manifest tableRowCounts;
 *   SKIP "no counts recorded" when the backup has none). Point-in-time restore: no entry newer than
 *   the target time, the nearest earlier backup's counts reported beside the restored ones, and an
 *   optional `expectedEntries`.
 * - Idempotent: a stored PASS/FAIL is returned as it is (no connection, no metric) unless the
 *   caller asks to verify again (`reverify`, or `expectedEntries`); then the record is rewritten and
 *   RestoreVerification is emitted again. The first write is conditional (If-None-Match), so two
 *   concurrent first runs (the RDS event and the CLI) emit the metric once.
 * - Not configured (no VPC settings at deploy): the record says NOT_CONFIGURED, never PASS, and no
 *   metric is emitted.
 */
import { paginateDescribeDBInstances, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { GuardRailError, NotFoundError, ValidationError } from '../../core/errors';
import type { BackupManifest } from '../../core/manifest';
import { KbMetrics } from '../../core/metrics-catalog';
import {
  MANAGED_BY_TAG,
  RESTORED_FROM_INSTANCE_TAG_KEY,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORED_TO_TIME_TAG_KEY,
  isValidDbInstanceId,
  parseSnapshotTime,
  sameInstanceId,
} from '../../core/naming';
import { VERIFICATION_VERSION, verificationKey, type VerificationRecord } from '../../core/verification';
import { translateAwsError } from '../shared/aws-errors';
import type { RuntimeConfig } from '../shared/env';
import { hasRestorePrefix, isProductionInstanceId, truncateForEcho } from '../shared/guards';
import { describeInstanceIfExists } from '../shared/rds-instances';
import {
  DATA_CHECKS,
  formatCheckLine,
  verifyKbData,
  type CheckResult,
  type KbDataCheckOptions,
  type KbDataReport,
} from '../shared/kb-data-checks';
import { getManifest, listManifestSnapshotIds } from '../shared/manifest-store';
import type { MetricSink } from '../shared/restore-common';
import { isManagedByKbDr, tagRecord } from '../shared/tags';
import { readVerification, writeVerification } from '../shared/verification-store';
import { VERIFY_DOCS, type VerifySettings } from '../shared/verify-settings';
import type { LoginSource } from '../shared/verify-login';
import {
  VerifyRestoreEventSchema,
  VERIFY_RESTORE_EVENT,
  VerifyPassEventSchema,
  VERIFY_PASS_EVENT,
  type VerifyRestoreEvent,
  type VerifyOutcome,
  type VerifyRestoreResult,
  type VerifyPassResult,
  type VerifyRestoreInput,
} from './contract';

export {
  VerifyRestoreEventSchema,
  VERIFY_RESTORE_EVENT,
  VerifyPassEventSchema,
  VERIFY_PASS_EVENT,
  type VerifyRestoreEvent,
  type VerifyOutcome,
  type VerifyRestoreResult,
  type VerifyPassResult,
};

/** The login types live with the logins (lambda/shared/verify-login.ts); re-exported for the handler and tests. */
export type { DbLogin, LoginSource } from '../shared/verify-login';

export interface VerifyRestoreDeps {
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly config: Pick<
    RuntimeConfig,
    'dbInstanceId' | 'backupBucket' | 'kmsKeyArn' | 'restorePrefix' | 'productionInstanceIds'
  >;
  readonly settings: VerifySettings;
  readonly login: LoginSource;
  /**
   * CA certificates the server must chain to (the RDS bundle); TLS is always on and verified. A
   * function is called when a connection is made (the handler loads the bundle only then).
   */
  readonly ca: CaCertificates | (() => Promise<CaCertificates>);
  /** Where an endpoint is reached; the identity in AWS (DNS does it). */
  readonly resolveEndpoint?: (address: string, port: number) => { host: string; port: number };
  readonly metrics: MetricSink;
  readonly now?: () => Date;
  /** @default 10000 */
  readonly connectTimeoutMs?: number;
}

/** PEM certificates, one string or several. */
export type CaCertificates = string | readonly string[];

const n = (v: number): string => v.toLocaleString('en-US');

/** `01:59:58Z` from an ISO time with microseconds. */
export function clockOf(iso: string | undefined): string | undefined {
  const m = iso ? /T(\d{2}:\d{2}:\d{2})/.exec(iso) : null;
  return m?.[1] ? `${m[1]}Z` : undefined;
}

type Source = VerificationRecord['source'];

/** What the instance was restored from, by its kb-dr tags; undefined when it is not a kb-dr restore. */
export function restoreSourceOf(instance: DBInstance): Source | undefined {
  const tags = tagRecord(instance.TagList);
  if (!isManagedByKbDr(tags)) return undefined;
  const snapshotId = tags[RESTORED_FROM_SNAPSHOT_TAG_KEY];
  if (snapshotId) return { kind: 'snapshot', snapshotId };
  const from = tags[RESTORED_FROM_INSTANCE_TAG_KEY];
  const to = tags[RESTORED_TO_TIME_TAG_KEY];
  if (from && to && !Number.isNaN(new Date(to).getTime()))
    return { kind: 'pitr', sourceInstanceId: from, targetTime: new Date(to).toISOString() };
  return undefined;
}

/** The id checks made before any AWS call: a valid id, not production, with the restore prefix. */
function checkTargetName(config: VerifyRestoreDeps['config'], id: string): string {
  const example = `"targetInstanceId": "${config.restorePrefix}drill-1"`;
  if (!isValidDbInstanceId(id))
    throw new ValidationError(
      `targetInstanceId "${truncateForEcho(id)}" is not a valid RDS instance id (1-63 letters, digits and single hyphens, starting with a letter), e.g. ${example}`,
      'targetInstanceId',
      { hint: 'use the id restore-snapshot or restore-pitr returned; nothing was sent to AWS' },
    );
  const guard = {
    dbInstanceId: config.dbInstanceId,
    restorePrefix: config.restorePrefix,
    productionInstanceIds: config.productionInstanceIds,
  };
  if (isProductionInstanceId(guard, id))
    throw new GuardRailError(
      `targetInstanceId "${id}" is a production instance: verify-restore checks restored copies only and never connects to production, e.g. ${example}`,
      { hint: 'pass the id of a kb-dr restore (nothing was read or changed)' },
    );
  if (!hasRestorePrefix(guard, id))
    throw new GuardRailError(
      `targetInstanceId "${id}" does not start with the restore prefix "${config.restorePrefix}": verify-restore checks kb-dr restores only, e.g. ${example}`,
      { hint: 'pass the id of a kb-dr restore (nothing was read or changed)' },
    );
  return id.toLowerCase();
}

/** The nearest SUCCEEDED backup of `protectedId` requested at or before `target`. */
async function nearestEarlierBackup(
  deps: VerifyRestoreDeps,
  protectedId: string,
  target: Date,
): Promise<BackupManifest | undefined> {
  const loc = { s3: deps.s3, bucket: deps.config.backupBucket };
  const ids = (await listManifestSnapshotIds(loc))
    .filter((id) => {
      const t = parseSnapshotTime(id);
      return t !== undefined && t <= target;
    })
    .reverse();
  for (const id of ids.slice(0, 10)) {
    const m = await getManifest(loc, id).catch(() => undefined);
    if (m && m.status === 'SUCCEEDED' && sameInstanceId(m.dbInstanceId, protectedId)) return m;
  }
  return undefined;
}

interface Plan {
  readonly options: KbDataCheckOptions;
  readonly extra: CheckResult[];
  readonly recorded?: VerificationRecord['recorded'];
}

/** What to compare the restored data with, from the backup record or the target time. */
async function planChecks(
  deps: VerifyRestoreDeps,
  instance: DBInstance,
  source: Source,
  expectedEntries: number | undefined,
): Promise<Plan> {
  const loc = { s3: deps.s3, bucket: deps.config.backupBucket };
  const base: KbDataCheckOptions = expectedEntries === undefined ? {} : { expectedEntries };
  if (source.kind === 'snapshot') {
    let manifest: BackupManifest | undefined;
    let why: string | undefined;
    try {
      manifest = await getManifest(loc, source.snapshotId);
    } catch (err) {
      why = `the manifest of ${source.snapshotId} could not be read (${(err as Error).message})`;
    }
    const counts = manifest?.tableRowCounts;
    if (!counts)
      return {
        options: base,
        extra: [
          {
            check: DATA_CHECKS.recorded,
            status: 'SKIP',
            detail: `no counts recorded: ${why ?? (manifest ? `the manifest of ${source.snapshotId} has no tableRowCounts (a backup recorded before counts were kept, or its export did not complete)` : `no manifest is recorded for ${source.snapshotId}`)}`,
          },
        ],
      };
    return {
      options: {
        ...base,
        expectedCounts: {
          knowledgeEntries: counts.knowledge_entries,
          embeddingCache: counts.embedding_cache,
          source: `backup ${source.snapshotId}`,
        },
      },
      extra: [],
      recorded: {
        snapshotId: source.snapshotId,
        knowledge_entries: counts.knowledge_entries,
        embedding_cache: counts.embedding_cache,
      },
    };
  }
  const tags = tagRecord(instance.TagList);
  const protectedId = tags['kb-dr:protected-instance'] ?? source.sourceInstanceId;
  const target = new Date(source.targetTime);
  const nearest = await nearestEarlierBackup(deps, protectedId, target).catch(() => undefined);
  const counts = nearest?.tableRowCounts;
  return {
    options: { ...base, targetTime: source.targetTime },
    extra: [],
    ...(nearest && counts
      ? {
          recorded: {
            snapshotId: nearest.snapshotId,
            knowledge_entries: counts.knowledge_entries,
            embedding_cache: counts.embedding_cache,
          },
        }
      : {}),
  };
}

/** The line reporting the nearest earlier backup beside a point-in-time restore (never compared). */
function nearestBackupLine(recorded: VerificationRecord['recorded'], restored: KbDataReport): CheckResult {
  const entries = restored.figures.knowledgeEntries;
  if (!recorded)
    return {
      check: 'nearest earlier backup',
      status: 'SKIP',
      detail: 'no counts recorded: no earlier backup of this instance records its counts',
    };
  const delta =
    entries === undefined
      ? ''
      : ` (${entries - recorded.knowledge_entries >= 0 ? '+' : ''}${n(entries - recorded.knowledge_entries)})`;
  return {
    check: 'nearest earlier backup',
    status: 'SKIP',
    detail: `for reference, not compared (entries change between a backup and the target time): ${recorded.snapshotId} recorded knowledge_entries ${n(recorded.knowledge_entries)}, embedding_cache ${n(recorded.embedding_cache)}; restored knowledge_entries ${entries === undefined ? 'not read' : n(entries)}${delta}`,
  };
}

/** The one-line summary of a record. */
export function summarize(
  outcome: VerificationRecord['outcome'],
  source: Source,
  checks: readonly CheckResult[],
  entries: number | undefined,
  newest: string | undefined,
  recorded: boolean,
): string {
  if (outcome === 'NOT_CONFIGURED')
    return `not verified: verification is not configured (see ${VERIFY_DOCS})`;
  if (outcome === 'FAIL') {
    const first = checks.find((c) => c.status === 'FAIL');
    return `verification FAILED: ${first ? `${first.check}: ${first.detail}` : 'see the report'}`;
  }
  const clock = clockOf(newest);
  const tail = clock ? `; newest entry ${clock}` : '';
  const count = entries === undefined ? 'entries not read' : `${n(entries)} entries`;
  if (source.kind === 'snapshot')
    return `verified: ${count}, ${recorded ? 'as recorded at backup' : 'no counts recorded at backup'}${tail}`;
  return `verified: ${count}, none after the target time ${source.targetTime}${tail}`;
}

function resultOf(
  record: VerificationRecord,
  fromStore: boolean,
  warnings: string[] = [],
): VerifyRestoreResult {
  return {
    ok: true,
    targetInstanceId: record.instanceId,
    outcome: record.outcome,
    summary: record.summary,
    report: record.checks.map(formatCheckLine),
    fromStore,
    recordKey: verificationKey(record.instanceId),
    record,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** Verify one restored instance (see the module comment for the rules). */
export async function verifyRestore(
  deps: VerifyRestoreDeps,
  input: VerifyRestoreEvent,
): Promise<VerifyRestoreResult> {
  const now = deps.now ?? (() => new Date());
  const id = checkTargetName(deps.config, input.targetInstanceId);
  const instance = await describeInstanceIfExists(deps.rds, id);
  if (!instance)
    throw new NotFoundError(`targetInstanceId "${id}" not found in this account and region`, {
      hint: 'use the id restore-snapshot or restore-pitr returned (nothing was read or changed)',
    });
  const source = restoreSourceOf(instance);
  if (!source)
    throw new GuardRailError(
      `${id} is not a kb-dr restore: it lacks the ${MANAGED_BY_TAG.key} tag and the ${RESTORED_FROM_SNAPSHOT_TAG_KEY} or ${RESTORED_FROM_INSTANCE_TAG_KEY}+${RESTORED_TO_TIME_TAG_KEY} tags restore-snapshot and restore-pitr set; verify-restore does not connect to it`,
      { hint: 'verify an instance made by restore-snapshot or restore-pitr (nothing was read or changed)' },
    );
  const state = instance.DBInstanceStatus ?? 'unknown';
  if (state !== 'available' || !instance.Endpoint?.Address)
    return {
      ok: true,
      targetInstanceId: id,
      outcome: 'NOT_AVAILABLE',
      summary: `not verified yet: the instance is ${state}; verification runs when it becomes available (RDS event, or the periodic pass)`,
      report: [],
      fromStore: false,
    };

  const loc = { s3: deps.s3, bucket: deps.config.backupBucket, kmsKeyArn: deps.config.kmsKeyArn };
  const explicit = input.reverify === true || input.expectedEntries !== undefined;
  const stored = await readVerification(loc, id);
  const warnings: string[] = [];
  if (stored.kind === 'corrupt') warnings.push(`${stored.reason}: verifying again and replacing it`);
  const configured = deps.settings.mode !== 'not-configured';
  if (stored.kind === 'record' && !explicit) {
    // A NOT_CONFIGURED record is stale once verification is configured: run the checks then.
    if (stored.record.outcome !== 'NOT_CONFIGURED' || !configured) return resultOf(stored.record, true);
  }

  const startedAt = now();
  let record: VerificationRecord;
  if (deps.settings.mode === 'not-configured') {
    const checks: CheckResult[] = [
      {
        check: DATA_CHECKS.connect,
        status: 'SKIP',
        detail: `not run: verification is not configured in this deployment (no VPC settings); see ${VERIFY_DOCS}`,
      },
    ];
    record = {
      version: VERIFICATION_VERSION,
      instanceId: id,
      outcome: 'NOT_CONFIGURED',
      source,
      startedAt: startedAt.toISOString(),
      verifiedAt: now().toISOString(),
      checks,
      summary: summarize('NOT_CONFIGURED', source, checks, undefined, undefined, false),
    };
  } else {
    const plan = await planChecks(deps, instance, source, input.expectedEntries);
    const address = instance.Endpoint.Address;
    const port = instance.Endpoint.Port ?? 5432;
    const where = deps.resolveEndpoint ? deps.resolveEndpoint(address, port) : { host: address, port };
    const ca = typeof deps.ca === 'function' ? await deps.ca() : deps.ca;
    let report: KbDataReport;
    try {
      const login = await deps.login({ address, port });
      report = await verifyKbData(
        {
          host: where.host,
          port: where.port,
          database: deps.settings.database,
          user: login.user,
          password: login.password,
          // Always TLS, verified against the RDS bundle for the endpoint's own name.
          ssl: { ca, rejectUnauthorized: true, servername: address },
          connectTimeoutMs: deps.connectTimeoutMs ?? 10_000,
        },
        plan.options,
      );
    } catch (err) {
      const detail = `could not get a login for ${address}:${port} (${(err as Error).message}): ${deps.settings.mode === 'secret' ? 'check that the secret exists, holds {"username","password"} and the role may read it' : 'check the function role may sign an IAM token'}`;
      report = {
        ok: false,
        result: 'FAIL',
        checks: [{ check: DATA_CHECKS.connect, status: 'FAIL', detail }],
        report: [],
        figures: {},
      };
    }
    const checks = [...report.checks, ...plan.extra];
    if (source.kind === 'pitr') checks.push(nearestBackupLine(plan.recorded, report));
    const outcome = report.result === 'PASS' && !checks.some((c) => c.status === 'FAIL') ? 'PASS' : 'FAIL';
    const entries =
      report.figures.knowledgeEntries !== undefined && report.figures.embeddingCache !== undefined
        ? {
            knowledge_entries: report.figures.knowledgeEntries,
            embedding_cache: report.figures.embeddingCache,
          }
        : undefined;
    record = {
      version: VERIFICATION_VERSION,
      instanceId: id,
      outcome,
      source,
      startedAt: startedAt.toISOString(),
      verifiedAt: now().toISOString(),
      checks: checks.map((c) => ({ check: c.check, status: c.status, detail: c.detail })),
      ...(entries ? { entries } : {}),
      ...(report.figures.newestCreatedAt ? { newestCreatedAt: report.figures.newestCreatedAt } : {}),
      ...(plan.recorded ? { recorded: plan.recorded } : {}),
      summary: summarize(
        outcome,
        source,
        checks,
        report.figures.knowledgeEntries,
        report.figures.newestCreatedAt,
        source.kind === 'snapshot' && plan.recorded !== undefined,
      ),
    };
  }

  // First result: conditional write, so a concurrent first run does not emit the metric twice.
  const firstWrite = stored.kind !== 'record';
  const written = await writeVerification(loc, record, firstWrite);
  if (!written) {
    const now2 = await readVerification(loc, id);
    if (now2.kind === 'record')
      return resultOf(now2.record, true, [
        ...warnings,
        'another run stored its result first; this is that result',
      ]);
  }
  if (record.outcome !== 'NOT_CONFIGURED')
    deps.metrics.add(KbMetrics.RestoreVerification, record.outcome === 'PASS' ? 1 : 0);
  return resultOf(record, false, warnings);
}

/**
 * The periodic backstop: every available kb-restore-* instance made by kb-dr that has no record
 * (or only a NOT_CONFIGURED one while verification is now configured) is verified, at most
 * `limit` per pass.
 */
export async function verifyPass(deps: VerifyRestoreDeps, limit = 5): Promise<VerifyPassResult> {
  const candidates: string[] = [];
  try {
    for await (const page of paginateDescribeDBInstances({ client: deps.rds }, {}))
      for (const i of page.DBInstances ?? []) {
        const id = i.DBInstanceIdentifier ?? '';
        if (
          hasRestorePrefix({ ...deps.config }, id) &&
          !isProductionInstanceId({ ...deps.config }, id) &&
          i.DBInstanceStatus === 'available' &&
          restoreSourceOf(i)
        )
          candidates.push(id);
      }
  } catch (err) {
    throw translateAwsError(err, { operation: 'list DB instances' });
  }
  const loc = { s3: deps.s3, bucket: deps.config.backupBucket };
  const verified: { instanceId: string; outcome: VerifyOutcome; summary: string }[] = [];
  const left: string[] = [];
  for (const id of candidates.sort()) {
    const stored = await readVerification(loc, id);
    const due =
      stored.kind !== 'record' ||
      (stored.record.outcome === 'NOT_CONFIGURED' && deps.settings.mode !== 'not-configured');
    if (!due) continue;
    if (verified.length >= limit) {
      left.push(id);
      continue;
    }
    try {
      const r = await verifyRestore(deps, { targetInstanceId: id });
      verified.push({ instanceId: id, outcome: r.outcome, summary: r.summary });
    } catch {
      left.push(id);
    }
  }
  return { ok: true, mode: 'pass', verified, left };
}

/** Run what one invocation asks for (verify one instance, or a pass) and log its outcome in one line. */
export async function runVerifyRestore(
  deps: VerifyRestoreDeps,
  input: VerifyRestoreInput,
  logger: Pick<Logger, 'info'>,
): Promise<VerifyRestoreResult | VerifyPassResult> {
  if (input.kind === 'pass') {
    const result = await verifyPass(deps);
    logger.info('verify-restore pass', { verified: result.verified, left: result.left });
    return result;
  }
  const result = await verifyRestore(deps, input.event);
  logger.info(`verify-restore ${result.outcome}`, {
    instance: result.targetInstanceId,
    report: result.report,
  });
  return result;
}
