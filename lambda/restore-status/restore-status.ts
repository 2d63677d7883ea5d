/**
 * restore-status: where a restore stands, how long it has run (the RTO clock), the endpoint once
 * available, and what is left to do. Read-only, except that the first time it sees a kb-dr
 * restore available it records that moment as a tag and emits RestoreDuration, so the metric is
 * emitted once per restore however often the status is polled. The duration is therefore an upper
 * bound by the polling interval (the CLI polls every 30 s).
 */
import { AddTagsToResourceCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import { formatDuration } from '../../core/duration';
import { NotFoundError, ValidationError } from '../../core/errors';
import { translateAwsError } from '../shared/aws-errors';
import { hasRestorePrefix, truncateForEcho, type RestoreGuardConfig } from '../shared/guards';
import { describeInstanceIfExists } from '../shared/rds-instances';
import { KbMetrics } from '../../core/metrics-catalog';
import {
  MANAGED_BY_TAG,
  PROTECTED_INSTANCE_TAG_KEY,
  RESTORED_FROM_INSTANCE_TAG_KEY,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
  RESTORED_TO_TIME_TAG_KEY,
  RESTORE_AVAILABLE_AT_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
  isValidDbInstanceId,
} from '../../core/naming';
import { RTO_TARGET_SECONDS, promotableInto, type MetricSink } from '../shared/restore-common';
import { formatCheckLine } from '../shared/kb-data-checks';
import { tagRecord } from '../shared/tags';
import type { StoredVerification } from '../shared/verification-store';
import { VERIFY_DOCS } from '../shared/verify-settings';
import {
  type RestoreStatusEvent,
  type RestorePhase,
  type RestoreStatusResult,
  type RestoreVerificationStatus,
} from './contract';

export type { RestoreVerificationStatus };

/** The event schema, example and answer type live in contract.ts (imported by the CLI and the drill). */
export * from './contract';

const FAILED_STATES = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'restore-error',
  'storage-full',
]);

/** The phase of an RDS instance status, as the on-call engineer needs it. */
export function phaseOf(status: string | undefined): RestorePhase {
  if (status === 'available') return 'available';
  if (status && FAILED_STATES.has(status)) return 'failed';
  return 'in-progress';
}

export interface RestoreStatusDeps {
  readonly rds: RDSClient;
  readonly config: RestoreGuardConfig;
  readonly metrics: MetricSink;
  readonly now?: () => Date;
  /** Reads verify-restore's record; absent: verification is not reported. */
  readonly verification?: VerificationReader;
}

/** What restore-status needs to report a restore's verification. */
export interface VerificationReader {
  /** The stored record of an instance. */
  read(instanceId: string): Promise<StoredVerification>;
  /** Whether verify-restore is configured in this deployment (KB_VERIFY_MODE). */
  readonly configured: boolean;
}

/** The verification line of an available restore; never "verified" unless a stored PASS says so. */
export async function verificationStatus(
  reader: VerificationReader,
  instanceId: string,
): Promise<RestoreVerificationStatus> {
  let stored: StoredVerification;
  try {
    stored = await reader.read(instanceId);
  } catch (err) {
    return {
      status: 'unreadable',
      summary: `not verified: the verification record could not be read (${(err as Error).message})`,
    };
  }
  if (stored.kind === 'corrupt')
    return {
      status: 'unreadable',
      summary: `not verified: ${stored.reason}; run verify-restore ${JSON.stringify({ targetInstanceId: instanceId, reverify: true })}`,
    };
  if (stored.kind === 'absent')
    return reader.configured
      ? {
          status: 'pending',
          summary: `not verified yet: verify-restore runs when the instance becomes available; to run it now: verify-restore ${JSON.stringify({ targetInstanceId: instanceId })}`,
        }
      : {
          status: 'not-configured',
          summary: `not verified: verification is not configured (see ${VERIFY_DOCS})`,
        };
  const r = stored.record;
  const report = r.checks.map(formatCheckLine);
  const status = r.outcome === 'PASS' ? 'verified' : r.outcome === 'FAIL' ? 'failed' : 'not-configured';
  return { status, summary: r.summary, report, verifiedAt: r.verifiedAt };
}

function parseTime(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Record the moment the restore was first seen available; returns why it could not, if it could not. */
async function recordAvailable(rds: RDSClient, instance: DBInstance, at: Date): Promise<string | undefined> {
  try {
    await rds.send(
      new AddTagsToResourceCommand({
        ResourceName: instance.DBInstanceArn,
        Tags: [{ Key: RESTORE_AVAILABLE_AT_TAG_KEY, Value: at.toISOString() }],
      }),
    );
    return undefined;
  } catch (err) {
    return translateAwsError(err, { operation: `tag ${instance.DBInstanceIdentifier} as available` }).message;
  }
}

/** The status of restore target `input.targetInstanceId`. */
export async function restoreStatus(
  deps: RestoreStatusDeps,
  input: RestoreStatusEvent,
): Promise<RestoreStatusResult> {
  const now = (deps.now ?? (() => new Date()))();
  const { rds, config } = deps;
  if (!isValidDbInstanceId(input.targetInstanceId)) {
    throw new ValidationError(
      `targetInstanceId "${truncateForEcho(input.targetInstanceId)}" is not a valid RDS instance id (1-63 letters, digits and single hyphens, starting with a letter), e.g. "targetInstanceId": "${config.restorePrefix}drill-1"`,
      'targetInstanceId',
      { hint: 'use the id restore-snapshot or restore-pitr returned; nothing was sent to AWS' },
    );
  }
  const instance = await describeInstanceIfExists(rds, input.targetInstanceId);
  if (!instance) {
    throw new NotFoundError(
      `targetInstanceId "${input.targetInstanceId}" not found in this account and region, e.g. "targetInstanceId": "${config.restorePrefix}drill-1"`,
      {
        hint: `use the id restore-snapshot or restore-pitr returned (list restores with \`aws rds describe-db-instances --query "DBInstances[?starts_with(DBInstanceIdentifier, '${config.restorePrefix}')].DBInstanceIdentifier"\`)`,
      },
    );
  }
  const id = instance.DBInstanceIdentifier ?? input.targetInstanceId.toLowerCase();
  const tags = tagRecord(instance.TagList);
  const state = instance.DBInstanceStatus ?? 'unknown';
  const phase = phaseOf(state);
  const startedAt = parseTime(tags[RESTORE_STARTED_AT_TAG_KEY]);
  let availableAt = parseTime(tags[RESTORE_AVAILABLE_AT_TAG_KEY]);
  const isKbRestore = startedAt !== undefined && hasRestorePrefix(config, id);

  const warnings: string[] = [];
  if (phase === 'available' && isKbRestore && !availableAt && instance.DBInstanceArn) {
    const tagFailure = await recordAvailable(rds, instance, now);
    if (tagFailure) {
      // RestoreDuration is emitted only with the tag, so it is emitted once per restore.
      warnings.push(
        `could not write the tag ${RESTORE_AVAILABLE_AT_TAG_KEY} (${tagFailure}): the RTO clock is not stopped (elapsed keeps counting on each status call until the tag is written) and RestoreDuration was not emitted; the next restore-status call tries again (the role needs rds:AddTagsToResource on ${instance.DBInstanceArn})`,
      );
    } else {
      availableAt = now;
      deps.metrics.add(KbMetrics.RestoreDuration, Math.max(0, (now.getTime() - startedAt.getTime()) / 1000));
    }
  }

  const clockEnd = availableAt ?? now;
  const elapsedSeconds = startedAt
    ? Math.max(0, Math.round((clockEnd.getTime() - startedAt.getTime()) / 1000))
    : undefined;
  const rto =
    elapsedSeconds === undefined
      ? { targetSeconds: RTO_TARGET_SECONDS }
      : availableAt
        ? { targetSeconds: RTO_TARGET_SECONDS, met: elapsedSeconds <= RTO_TARGET_SECONDS }
        : { targetSeconds: RTO_TARGET_SECONDS, remainingSeconds: RTO_TARGET_SECONDS - elapsedSeconds };
  const endpoint =
    phase === 'available' && instance.Endpoint?.Address
      ? { address: instance.Endpoint.Address, port: instance.Endpoint.Port ?? 5432 }
      : undefined;
  const restoredFrom = {
    ...(tags[RESTORED_FROM_SNAPSHOT_TAG_KEY] ? { snapshotId: tags[RESTORED_FROM_SNAPSHOT_TAG_KEY] } : {}),
    ...(tags[RESTORED_FROM_INSTANCE_TAG_KEY] ? { instanceId: tags[RESTORED_FROM_INSTANCE_TAG_KEY] } : {}),
    ...(tags[PROTECTED_INSTANCE_TAG_KEY] ? { protectedInstanceId: tags[PROTECTED_INSTANCE_TAG_KEY] } : {}),
    ...(tags[RESTORED_TO_TIME_TAG_KEY] ? { toTime: tags[RESTORED_TO_TIME_TAG_KEY] } : {}),
  };
  const promoteInto = hasRestorePrefix(config, id) ? promotableInto(config, tags) : undefined;
  const promoteEvent =
    phase === 'available' && promoteInto
      ? {
          restoredInstanceId: id,
          productionInstanceId: promoteInto,
          confirm: true,
          forceProduction: true,
        }
      : undefined;

  const verification =
    phase === 'available' && deps.verification && hasRestorePrefix(config, id)
      ? await verificationStatus(deps.verification, id)
      : undefined;

  const todo: string[] = [];
  if (phase === 'in-progress') {
    todo.push(
      `wait: the instance is ${state}; run restore-status ${JSON.stringify({ targetInstanceId: id })} again in 5 minutes`,
    );
  } else if (phase === 'failed') {
    todo.push(
      `the restore failed (${state}): read the instance's RDS events (aws rds describe-events --source-type db-instance --source-identifier ${id})`,
      `start a new restore to a new id (e.g. ${id}-2) with restore-snapshot or restore-pitr; this instance has deletion protection, disable it before deleting`,
    );
  } else {
    if (verification?.status === 'failed')
      todo.push(
        `the data checks FAILED: read the report above; do not promote this instance; restore again from another backup, or verify again with verify-restore ${JSON.stringify({ targetInstanceId: id, reverify: true })}`,
      );
    if (endpoint && verification?.status !== 'verified')
      todo.push(
        `check the data: connect to ${endpoint.address}:${endpoint.port} (same master user and password as the source) and run your smoke queries, or point a staging copy of the app at it`,
      );
    if (restoredFrom.snapshotId)
      todo.push(
        `validate the backup: validate-backup ${JSON.stringify({ snapshotId: restoredFrom.snapshotId })}`,
      );
    if (promoteEvent)
      todo.push(
        `to serve production from it (keeps the app's endpoint): promote-restore ${JSON.stringify(promoteEvent)}`,
      );
    else if (hasRestorePrefix(config, id))
      todo.push(
        `it cannot be promoted: it is not a kb-dr restore of a configured production instance (tags ${MANAGED_BY_TAG.key}, ${PROTECTED_INSTANCE_TAG_KEY}); restore the production instance's own backup to promote`,
      );
    if (hasRestorePrefix(config, id))
      todo.push(
        `a drill? delete it afterwards: aws rds modify-db-instance --db-instance-identifier ${id} --no-deletion-protection --apply-immediately, then aws rds delete-db-instance --db-instance-identifier ${id} --skip-final-snapshot`,
      );
  }

  return {
    ok: true,
    targetInstanceId: id,
    state,
    phase,
    restoredFrom,
    ...(startedAt ? { restoreStartedAt: startedAt.toISOString() } : {}),
    ...(availableAt ? { availableAt: availableAt.toISOString() } : {}),
    ...(elapsedSeconds !== undefined
      ? { elapsedSeconds, elapsed: formatDuration(elapsedSeconds * 1000) }
      : {}),
    rto,
    ...(endpoint ? { endpoint } : {}),
    todo,
    ...(verification ? { verification, summary: `${state}; ${verification.summary}` } : {}),
    ...(promoteEvent ? { promoteEvent } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}
