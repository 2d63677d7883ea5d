/**
 * promote-restore: the only path that puts a restored instance behind a production name, so the
 * application's endpoint stays the same. Production is renamed aside (never deleted), then the
 * restored instance takes the production name; if that second rename fails, the first is put back.
 *
 * RDS renames are asynchronous: ModifyDBInstance(NewDBInstanceIdentifier, ApplyImmediately)
 * returns at once and the old name is released only when the rename finishes (typically a minute
 * or two). A rename REBOOTS the instance and, with ApplyImmediately, applies every pending
 * modification with it, so promotion is refused while either instance has any; the endpoint's DNS
 * name follows the new identifier only after about 10 minutes (user guide, "Renaming a DB
 * instance"). The second rename needs the production name free, so this function waits for the first
 * rename in-process, polling within a budget the handler derives from the Lambda's remaining time
 * (minus a safety margin). It does not wait for the second rename: restore-status on the production
 * name shows it finishing. If the budget runs out, it returns a failure that says exactly where
 * things stand; running the same event again later finishes the job (production's name is then
 * free, and a missing production instance is promoted into directly).
 */
import { ModifyDBInstanceCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import {
  GuardRailError,
  InvalidStateError,
  KbDrError,
  NotFoundError,
  ValidationError,
} from '../../core/errors';
import { translateAwsError } from '../shared/aws-errors';
import {
  MANAGED_BY_TAG,
  PROTECTED_INSTANCE_TAG_KEY,
  RESTORED_FROM_INSTANCE_TAG_KEY,
  isValidDbInstanceId,
} from '../../core/naming';
import {
  hasRestorePrefix,
  isProductionInstanceId,
  productionIds,
  promotableInto,
  requireConfirmation,
  truncateForEcho,
  type RestoreGuardConfig,
} from '../shared/guards';
import { describeInstanceIfExists } from '../shared/rds-instances';
import { isManagedByKbDr, tagRecord } from '../shared/tags';
import { type PromoteRestoreEvent, type EncryptionComparison, type PromoteRestoreResult } from './contract';

/** The event schema, example and answer type live in contract.ts (imported by the CLI and the drill). */
export * from './contract';

/** Raised when the promotion failed part-way; the message says what state was left. */
export class PromotionFailedError extends KbDrError {
  override readonly name = 'PromotionFailedError';
  /** True when reading state showed nothing was changed (the CLI then exits 2). */
  readonly nothingChanged: boolean;
  constructor(
    message: string,
    options: ConstructorParameters<typeof KbDrError>[1] & { nothingChanged?: boolean } = {},
  ) {
    super(message, options);
    this.nothingChanged = options.nothingChanged ?? false;
  }
}

/** `<prod>-pre-promote-YYYYMMDDHHMMSS` (UTC). */
export function asideInstanceId(productionInstanceId: string, at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-:T]/g, '');
  return `${productionInstanceId.toLowerCase()}-pre-promote-${stamp}`;
}

export interface PromoteRestoreDeps {
  readonly rds: RDSClient;
  readonly config: RestoreGuardConfig;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds this invocation may spend waiting for the first rename. */
  readonly waitBudgetMs: number;
  /** @default 15000 */
  readonly pollIntervalMs?: number;
}

function keyId(k: string | undefined): string | undefined {
  return k ? (/key\/([^/]+)$/.exec(k)?.[1] ?? k).toLowerCase() : undefined;
}

/** Compare the restored copy's storage encryption with production's. */
export function compareEncryption(
  restored: DBInstance,
  production: DBInstance | undefined,
): EncryptionComparison {
  const r = {
    encrypted: restored.StorageEncrypted === true,
    ...(restored.KmsKeyId ? { kmsKeyId: restored.KmsKeyId } : {}),
  };
  const p = production
    ? {
        encrypted: production.StorageEncrypted === true,
        ...(production.KmsKeyId ? { kmsKeyId: production.KmsKeyId } : {}),
      }
    : undefined;
  let mismatch: string | undefined;
  if (!r.encrypted) mismatch = `${restored.DBInstanceIdentifier} is NOT encrypted`;
  else if (p && !p.encrypted)
    mismatch = `production ${production?.DBInstanceIdentifier} is not encrypted but the copy is (with ${r.kmsKeyId ?? 'an unknown key'})`;
  else if (p && keyId(r.kmsKeyId) !== keyId(p.kmsKeyId))
    mismatch = `${restored.DBInstanceIdentifier} is encrypted with ${r.kmsKeyId ?? 'an unknown key'}, production with ${p.kmsKeyId ?? 'an unknown key'}`;
  return {
    restored: r,
    ...(p ? { production: p } : {}),
    matches: mismatch === undefined,
    ...(mismatch ? { mismatch } : {}),
  };
}

/** The pending modifications of an instance, as `name=value` (empty: none). */
export function pendingModifications(instance: DBInstance): string[] {
  return Object.entries(instance.PendingModifiedValues ?? {})
    .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
}

/** Where a rename stands, read from state (for a rename whose answer was lost or refused). */
export type RenameState = 'done' | 'in-progress' | 'not-applied' | 'unknown';

async function renameState(rds: RDSClient, from: string, to: string): Promise<RenameState> {
  let fromI: DBInstance | undefined;
  let toI: DBInstance | undefined;
  try {
    fromI = await describeInstanceIfExists(rds, from);
    toI = await describeInstanceIfExists(rds, to);
  } catch {
    return 'unknown';
  }
  if (!fromI && toI) return 'done';
  if (
    fromI &&
    (fromI.PendingModifiedValues?.DBInstanceIdentifier?.toLowerCase() === to ||
      fromI.DBInstanceStatus === 'renaming')
  )
    return 'in-progress';
  if (fromI && !toI) return 'not-applied';
  return 'unknown';
}

/** What a rename does besides the name: said in every answer and the runbook. */
export const RENAME_TIMING =
  'each rename reboots that instance (brief outage) and applies its pending modifications; the endpoint DNS name follows the new identifier only after about 10 minutes, so the application sees connection errors or the old instance until then';

async function rename(rds: RDSClient, from: string, to: string): Promise<void> {
  await rds.send(
    new ModifyDBInstanceCommand({
      DBInstanceIdentifier: from,
      NewDBInstanceIdentifier: to,
      ApplyImmediately: true,
    }),
  );
}

function requireAvailable(instance: DBInstance, role: string): void {
  if (instance.DBInstanceStatus !== 'available') {
    throw new InvalidStateError(
      `${role} ${instance.DBInstanceIdentifier} is ${instance.DBInstanceStatus ?? 'in an unknown state'}, not available`,
      {
        hint: `wait until it is available (restore-status {"targetInstanceId": "${instance.DBInstanceIdentifier}"}) and run the same event again; nothing was changed`,
        retryable: true,
      },
    );
  }
}

/** Promote `restoredInstanceId` into `productionInstanceId`'s name. */
export async function promoteRestore(
  deps: PromoteRestoreDeps,
  input: PromoteRestoreEvent,
): Promise<PromoteRestoreResult> {
  const { rds, config } = deps;
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const dryRun = input.dryRun === true;
  requireConfirmation(input, 'promote a restored instance into production');
  if (!dryRun && input.forceProduction !== true) {
    throw new GuardRailError(
      `"forceProduction" must be true: promote-restore replaces what answers on the production name (nothing was changed), e.g. "forceProduction": true`,
      {
        hint: 'add "forceProduction": true only if you mean to serve production from the restored instance; "dryRun": true shows the plan',
      },
    );
  }
  const prodId = input.productionInstanceId.toLowerCase();
  const restoredId = input.restoredInstanceId.toLowerCase();
  if (!isProductionInstanceId(config, prodId)) {
    throw new GuardRailError(
      `productionInstanceId "${truncateForEcho(input.productionInstanceId)}" is not a configured production instance (${productionIds(config).join(', ')}), e.g. "productionInstanceId": "${config.dbInstanceId}"`,
      { hint: 'nothing was changed' },
    );
  }
  if (
    isProductionInstanceId(config, restoredId) ||
    !hasRestorePrefix(config, restoredId) ||
    !isValidDbInstanceId(restoredId)
  ) {
    throw new GuardRailError(
      `restoredInstanceId "${truncateForEcho(input.restoredInstanceId)}" must be a restored instance named with the prefix "${config.restorePrefix}", e.g. "restoredInstanceId": "${config.restorePrefix}drill-1"`,
      { hint: 'use the targetInstanceId of your restore-snapshot or restore-pitr run; nothing was changed' },
    );
  }
  const restored = await describeInstanceIfExists(rds, restoredId);
  if (!restored) {
    throw new NotFoundError(
      `restoredInstanceId "${restoredId}" not found, e.g. "restoredInstanceId": "kb-restore-drill-1"`,
      {
        hint: 'check the id with restore-status; nothing was changed',
      },
    );
  }
  requireAvailable(restored, 'restored instance');
  const tags = tagRecord(restored.TagList);
  if (!isManagedByKbDr(tags)) {
    throw new GuardRailError(
      `${restoredId} was not made by kb-dr (it lacks the tag ${MANAGED_BY_TAG.key}=${MANAGED_BY_TAG.value}): only a restore-snapshot or restore-pitr restore can be promoted, e.g. "restoredInstanceId": "${config.restorePrefix}drill-1"`,
      {
        hint: 'restore the production backup with restore-snapshot or restore-pitr and promote that; nothing was changed',
      },
    );
  }
  const from = promotableInto(config, tags);
  if (from !== prodId) {
    throw new GuardRailError(
      `${restoredId} is a restore of ${from ?? tags[PROTECTED_INSTANCE_TAG_KEY] ?? tags[RESTORED_FROM_INSTANCE_TAG_KEY] ?? 'an unknown instance'}, not of ${prodId} (tag ${PROTECTED_INSTANCE_TAG_KEY}): only a copy of ${prodId}'s own data may take its name`,
      {
        hint: `restore ${prodId}'s backup (restore-snapshot {"snapshotId": "latest", ...}) and promote that; nothing was changed`,
      },
    );
  }
  const production = await describeInstanceIfExists(rds, prodId);
  if (production) requireAvailable(production, 'production instance');
  for (const [role, inst] of [
    ['restored instance', restored],
    ['production instance', production],
  ] as const) {
    const pending = inst ? pendingModifications(inst) : [];
    if (inst && pending.length > 0) {
      throw new InvalidStateError(
        `${role} ${inst.DBInstanceIdentifier} has pending modifications (${pending.join(', ')}): a rename with ApplyImmediately would apply them and reboot with them`,
        {
          hint: `apply them first (aws rds modify-db-instance --db-instance-identifier ${inst.DBInstanceIdentifier} --apply-immediately, with the same settings) or revert them, wait until restore-status shows available, then run the same event again; nothing was changed`,
          retryable: true,
        },
      );
    }
  }
  const encryption = compareEncryption(restored, production);
  if (input.reason !== undefined && input.allowEncryptionMismatch !== true) {
    throw new ValidationError(
      '"reason" goes with "allowEncryptionMismatch": true and is only accepted with it, e.g. "allowEncryptionMismatch": true, "reason": "…"',
      'reason',
      {
        hint: 'remove "reason", or add "allowEncryptionMismatch": true if you mean to override; nothing was changed',
      },
    );
  }
  if (!encryption.matches) {
    if (input.allowEncryptionMismatch !== true) {
      throw new GuardRailError(`${restoredId} is not encrypted like production: ${encryption.mismatch}`, {
        hint: `restore from an encrypted backup of ${prodId}; or, if this copy must serve production anyway, add "allowEncryptionMismatch": true and a "reason" (echoed in the answer and the logs); nothing was changed`,
      });
    }
    if (!input.reason?.trim()) {
      throw new ValidationError(
        `"allowEncryptionMismatch": true needs a "reason" (${encryption.mismatch}), e.g. "reason": "production key was deleted; approved by J. Doe"`,
        'reason',
        { hint: 'add a reason; nothing was changed' },
      );
    }
  }
  const encryptionAnswer = {
    ...encryption,
    ...(!encryption.matches && input.reason ? { override: { reason: input.reason.trim() } } : {}),
  };
  const at = now();
  const aside = production ? asideInstanceId(prodId, at) : undefined;
  if (aside) {
    if (!isValidDbInstanceId(aside)) {
      throw new ValidationError(
        `the aside name ${aside} would exceed 63 characters; production ids longer than 33 characters cannot be promoted by this function`,
        'productionInstanceId',
        {
          hint: 'rename production manually (aws rds modify-db-instance --new-db-instance-identifier); nothing was changed',
        },
      );
    }
    if (await describeInstanceIfExists(rds, aside)) {
      throw new GuardRailError(`an instance named ${aside} already exists`, {
        hint: 'wait a second and run the same event again; nothing was changed',
        retryable: true,
      });
    }
  }
  const plan = [
    ...(aside
      ? [`rename production ${prodId} to ${aside} (kept, never deleted)`]
      : [`no instance is named ${prodId}: nothing to set aside`]),
    `rename ${restoredId} to ${prodId}`,
    ...(aside ? [`if that fails, rename ${aside} back to ${prodId}`] : []),
    `timing: ${RENAME_TIMING}`,
    ...(encryptionAnswer.override
      ? [`encryption mismatch accepted (${encryption.mismatch}): ${encryptionAnswer.override.reason}`]
      : []),
  ];
  const base = {
    productionInstanceId: prodId,
    restoredInstanceId: restoredId,
    ...(aside ? { asideInstanceId: aside } : {}),
    encryption: encryptionAnswer,
  };
  if (dryRun) {
    return {
      ok: true,
      dryRun: true,
      action: 'plan',
      ...base,
      steps: plan,
      next: [
        `dry run: nothing was changed; to do it run promote-restore ${JSON.stringify({ restoredInstanceId: restoredId, productionInstanceId: prodId, confirm: true, forceProduction: true })}`,
      ],
    };
  }

  const steps: string[] = [];
  if (aside) {
    try {
      await rename(rds, prodId, aside);
      steps.push(`renamed production ${prodId} to ${aside}`);
    } catch (err) {
      // The answer may be lost while the rename went through: read where production is.
      const cause = translateAwsError(err, { operation: `rename production ${prodId} to ${aside}` });
      const state = await renameState(rds, prodId, aside);
      if (state === 'not-applied') {
        throw new PromotionFailedError(
          `${cause.message}; production is still ${prodId} (not renamed) and ${restoredId} is unchanged`,
          {
            cause: err,
            hint: `nothing was changed: fix the cause above, then run the same event again`,
            retryable: cause.retryable,
            nothingChanged: true,
          },
        );
      }
      if (state === 'unknown') {
        throw new PromotionFailedError(
          `${cause.message}; whether production was renamed is unknown (its state could not be read): production is either still ${prodId} or being renamed to ${aside}; ${restoredId} was NOT renamed`,
          {
            cause: err,
            hint: `check restore-status {"targetInstanceId": "${prodId}"} and {"targetInstanceId": "${aside}"}: if ${prodId} is available, nothing changed (run the same event again); if ${aside} exists, wait until it is available and run the same event again (with production's name free, it promotes ${restoredId} directly; the old production stays as ${aside})`,
            retryable: true,
          },
        );
      }
      steps.push(
        `the answer to renaming production was lost (${cause.message}); reading state showed the rename to ${aside} ${state === 'done' ? 'done' : 'under way'}`,
      );
    }
    await waitUntilNameFree(deps, sleep, prodId, aside);
    steps.push(`${prodId} is free`);
  }
  try {
    await rename(rds, restoredId, prodId);
    steps.push(`renamed ${restoredId} to ${prodId}`);
  } catch (err) {
    const cause = translateAwsError(err, { operation: `rename ${restoredId} to ${prodId}` });
    const state = await renameState(rds, restoredId, prodId);
    if (state === 'unknown') {
      throw new PromotionFailedError(
        `${cause.message}; whether ${restoredId} took the name ${prodId} is unknown (state could not be read). ${aside ? `The old production is set aside as ${aside} (intact)` : `There was no production instance to set aside`}`,
        {
          cause: err,
          hint: `check restore-status {"targetInstanceId": "${prodId}"} and {"targetInstanceId": "${restoredId}"}: if ${prodId} shows the restore's tags (restoredFrom), the promotion finished; if ${restoredId} still exists and ${prodId} does not, ${aside ? `put production back: aws rds modify-db-instance --db-instance-identifier ${aside} --new-db-instance-identifier ${prodId} --apply-immediately` : `run the same event again`}`,
          retryable: false,
        },
      );
    }
    if (state !== 'not-applied') {
      steps.push(
        `the answer to renaming ${restoredId} was lost (${cause.message}); reading state showed the rename to ${prodId} ${state === 'done' ? 'done' : 'under way'}`,
      );
      return promoted(base, steps, prodId, aside);
    }
    if (!aside) {
      throw new PromotionFailedError(
        `${cause.message}; ${restoredId} was not renamed and no instance is named ${prodId} (there was no production instance to set aside)`,
        {
          cause: err,
          hint: 'nothing was changed: fix the cause above, then run the same event again',
          retryable: cause.retryable,
          nothingChanged: true,
        },
      );
    }
    try {
      await rename(rds, aside, prodId);
    } catch (rollbackErr) {
      const rb = translateAwsError(rollbackErr, { operation: `rename ${aside} back to ${prodId}` });
      throw new PromotionFailedError(
        `promotion FAILED and the rollback FAILED: ${cause.message}; then ${rb.message}. Production data is intact in ${aside}`,
        {
          cause: err,
          hint: `URGENT: rename it back by hand: aws rds modify-db-instance --db-instance-identifier ${aside} --new-db-instance-identifier ${prodId} --apply-immediately`,
        },
      );
    }
    throw new PromotionFailedError(
      `promotion failed and was rolled back: ${cause.message}; production ${aside} is being renamed back to ${prodId}`,
      {
        cause: err,
        hint: `watch restore-status {"targetInstanceId": "${prodId}"} until available; fix the cause above, then run promote-restore again`,
      },
    );
  }
  return promoted(base, steps, prodId, aside);
}

function promoted(
  base: Omit<PromoteRestoreResult, 'ok' | 'dryRun' | 'action' | 'steps' | 'next'>,
  steps: string[],
  prodId: string,
  aside: string | undefined,
): PromoteRestoreResult {
  return {
    ok: true,
    dryRun: false,
    action: 'promoted',
    ...base,
    steps,
    next: [
      `the rename takes a few minutes and reboots the instance: watch restore-status {"targetInstanceId": "${prodId}"} until available; the endpoint name stays ${prodId}.<...>.rds.amazonaws.com but its DNS points to the new instance only after about 10 minutes`,
      'then restart or reconnect the application so it drops connections to the old instance',
      ...(aside
        ? [
            `the old production is kept as ${aside} (its automated backups keep its history: restore-pitr {"sourceInstanceId": "${aside}", ...} reaches it); delete it only when you are sure (it may have deletion protection on)`,
          ]
        : []),
    ],
  };
}

async function waitUntilNameFree(
  deps: PromoteRestoreDeps,
  sleep: (ms: number) => Promise<void>,
  prodId: string,
  aside: string,
): Promise<void> {
  const interval = deps.pollIntervalMs ?? 15_000;
  let waited = 0;
  for (;;) {
    const stillThere = await describeInstanceIfExists(deps.rds, prodId);
    if (!stillThere) return;
    if (waited + interval > deps.waitBudgetMs) {
      throw new PromotionFailedError(
        `production ${prodId} is still being renamed to ${aside} after ${Math.round(waited / 1000)} s; the restored instance was NOT renamed yet`,
        {
          hint: `when restore-status {"targetInstanceId": "${aside}"} shows available, run the same promote-restore event again to finish (or rename ${aside} back to ${prodId} to abandon)`,
          retryable: true,
        },
      );
    }
    await sleep(interval);
    waited += interval;
  }
}
