/**
 * promote-restore: the only path that puts a restored instance behind a production name, so the
 * application's endpoint stays the same. Production is renamed aside (never deleted), then the
 * restored instance takes the production name; if that second rename fails, the first is put back.
 *
 * RDS renames are asynchronous: ModifyDBInstance(NewDBInstanceIdentifier, ApplyImmediately)
 * returns at once and the old name is released only when the rename finishes (typically a minute
 * or two). The second rename needs the production name free, so this function waits for the first
 * rename in-process, polling within a budget the handler derives from the Lambda's remaining time
 * (minus a safety margin). It does not wait for the second rename: restore-status on the production
 * name shows it finishing. If the budget runs out, it returns a failure that says exactly where
 * things stand; running the same event again later finishes the job (production's name is then
 * free, and a missing production instance is promoted into directly).
 */
import { ModifyDBInstanceCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import { z } from 'zod';
import {
  GuardRailError,
  InvalidStateError,
  KbDrError,
  NotFoundError,
  ValidationError,
  translateAwsError,
} from '../shared/errors';
import {
  describeInstanceIfExists,
  hasRestorePrefix,
  isProductionInstanceId,
  productionIds,
  requireConfirmation,
  type RestoreGuardConfig,
} from '../shared/guards';
import type { EventSpec } from '../shared/handler-response';
import { isValidDbInstanceId } from '../shared/naming';

export const PromoteRestoreEventSchema = z.strictObject({
  restoredInstanceId: z.string().min(1),
  productionInstanceId: z.string().min(1),
  confirm: z.boolean().optional(),
  forceProduction: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});
export type PromoteRestoreEvent = z.infer<typeof PromoteRestoreEventSchema>;

export const PROMOTE_RESTORE_EVENT: EventSpec<typeof PromoteRestoreEventSchema> = {
  functionName: 'promote-restore',
  schema: PromoteRestoreEventSchema,
  example: {
    restoredInstanceId: 'kb-restore-drill-1',
    productionInstanceId: 'kb-prod',
    confirm: true,
    forceProduction: true,
  },
  fieldExamples: {
    restoredInstanceId: '"kb-restore-drill-1"',
    productionInstanceId: '"kb-prod"',
    confirm: 'true',
    forceProduction: 'true',
    dryRun: 'true',
  },
};

/** Raised when the promotion failed part-way; the message says what state was left. */
export class PromotionFailedError extends KbDrError {
  override readonly name = 'PromotionFailedError';
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

export interface PromoteRestoreResult {
  readonly ok: true;
  readonly dryRun: boolean;
  readonly action: 'promoted' | 'plan';
  readonly productionInstanceId: string;
  readonly restoredInstanceId: string;
  /** Where the old production went; undefined when there was no production instance to set aside. */
  readonly asideInstanceId?: string;
  readonly steps: readonly string[];
  readonly next: readonly string[];
}

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
      `productionInstanceId "${input.productionInstanceId}" is not a configured production instance (${productionIds(config).join(', ')}), e.g. "productionInstanceId": "${config.dbInstanceId}"`,
      { hint: 'nothing was changed' },
    );
  }
  if (
    isProductionInstanceId(config, restoredId) ||
    !hasRestorePrefix(config, restoredId) ||
    !isValidDbInstanceId(restoredId)
  ) {
    throw new GuardRailError(
      `restoredInstanceId "${input.restoredInstanceId}" must be a restored instance named with the prefix "${config.restorePrefix}", e.g. "restoredInstanceId": "${config.restorePrefix}drill-1"`,
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
  const production = await describeInstanceIfExists(rds, prodId);
  if (production) requireAvailable(production, 'production instance');
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
  ];
  const base = {
    productionInstanceId: prodId,
    restoredInstanceId: restoredId,
    ...(aside ? { asideInstanceId: aside } : {}),
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
    } catch (err) {
      throw translateAwsError(err, { operation: `rename production ${prodId} to ${aside}` });
    }
    steps.push(`renamed production ${prodId} to ${aside}`);
    await waitUntilNameFree(deps, sleep, prodId, aside);
    steps.push(`${prodId} is free`);
  }
  try {
    await rename(rds, restoredId, prodId);
  } catch (err) {
    const cause = translateAwsError(err, { operation: `rename ${restoredId} to ${prodId}` });
    if (!aside) throw cause;
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
  steps.push(`renamed ${restoredId} to ${prodId}`);
  return {
    ok: true,
    dryRun: false,
    action: 'promoted',
    ...base,
    steps,
    next: [
      `the rename takes a few minutes: watch restore-status {"targetInstanceId": "${prodId}"} until available; the endpoint name stays ${prodId}.<...>.rds.amazonaws.com`,
      'restart or reconnect the application so it drops connections to the old instance',
      ...(aside
        ? [
            `the old production is kept as ${aside}: delete it only when you are sure (it may have deletion protection on)`,
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
