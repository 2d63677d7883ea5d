/**
 * Guard rails shared by the restore functions. Every check here runs before any mutating AWS
 * call, so a refused request changes nothing.
 */
import type { RDSClient } from '@aws-sdk/client-rds';
import { isManagedByKbDr } from './tags';
import { AlreadyExistsError, GuardRailError, ValidationError } from '../../core/errors';
import { describeInstanceIfExists } from './rds-instances';
import {
  PROTECTED_INSTANCE_TAG_KEY,
  RESTORED_FROM_INSTANCE_TAG_KEY,
  isValidDbInstanceId,
} from '../../core/naming';

/** The settings the restore guards need. */
export interface RestoreGuardConfig {
  readonly dbInstanceId: string;
  readonly restorePrefix: string;
  readonly productionInstanceIds: readonly string[];
}

/** RDS instance ids are case-insensitive (RDS stores them in lower case). */
export function sameInstanceId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The production instance ids (the protected one first), lower case, without duplicates. */
export function productionIds(cfg: RestoreGuardConfig): string[] {
  return [...new Set([cfg.dbInstanceId, ...cfg.productionInstanceIds].map((id) => id.toLowerCase()))];
}

/** True when `id` names a production instance (the protected one or any configured production id). */
export function isProductionInstanceId(cfg: RestoreGuardConfig, id: string): boolean {
  return [cfg.dbInstanceId, ...cfg.productionInstanceIds].some((p) => sameInstanceId(p, id));
}

/** An input value as it may be echoed back in a message: at most 80 characters. */
export function truncateForEcho(value: string, max = 80): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}

/** `<prod>-pre-promote-YYYYMMDDHHMMSS`: where promote-restore sets production aside. */
export function isAsideOf(id: string, productionId: string): boolean {
  const prefix = `${productionId.toLowerCase()}-pre-promote-`;
  const lower = id.toLowerCase();
  return lower.startsWith(prefix) && /^\d{14}$/.test(lower.slice(prefix.length));
}

/** True when `id` carries the configured restore prefix (case-insensitively). */
export function hasRestorePrefix(cfg: RestoreGuardConfig, id: string): boolean {
  return id.toLowerCase().startsWith(cfg.restorePrefix.toLowerCase());
}

/** The flags every mutating function takes. */
export interface ConfirmFlags {
  readonly confirm?: boolean | undefined;
  readonly dryRun?: boolean | undefined;
}

/**
 * Refuse a mutating request without `"confirm": true` (the boolean). A dry run needs no
 * confirmation: it never mutates.
 */
export function requireConfirmation(flags: ConfirmFlags, action: string): void {
  if (flags.dryRun === true) return;
  if (flags.confirm !== true) {
    throw new GuardRailError(
      `"confirm" must be true to ${action} (nothing was changed), e.g. "confirm": true`,
      { hint: 'add "confirm": true to go ahead, or "dryRun": true to see the plan first' },
    );
  }
}

/** An example restore target id for messages, e.g. `kb-restore-20261122-0300`. */
export function exampleRestoreId(cfg: RestoreGuardConfig, now: Date = new Date()): string {
  const stamp = now.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `${cfg.restorePrefix.replace(/-?$/, '-')}${stamp}`.toLowerCase();
}

/**
 * Check a restore target's name without any AWS call: a valid RDS id, not production, with the
 * restore prefix. Returns the id in lower case (what RDS will call it).
 */
export function checkRestoreTargetName(
  cfg: RestoreGuardConfig,
  targetInstanceId: string,
  now: Date = new Date(),
): string {
  const example = exampleRestoreId(cfg, now);
  const shown = truncateForEcho(targetInstanceId);
  if (!isValidDbInstanceId(targetInstanceId)) {
    throw new ValidationError(
      `targetInstanceId "${shown}" is not a valid RDS instance id (1-63 letters, digits and single hyphens, starting with a letter), e.g. "targetInstanceId": "${example}"`,
      'targetInstanceId',
      { hint: 'fix the id and run again; nothing was changed' },
    );
  }
  if (isProductionInstanceId(cfg, targetInstanceId)) {
    throw new GuardRailError(
      `targetInstanceId "${targetInstanceId}" is a production instance: a restore always creates a NEW instance, e.g. "targetInstanceId": "${example}"`,
      {
        hint: 'restore to a new instance first; to put it behind the production name afterwards use promote-restore (nothing was changed)',
      },
    );
  }
  if (!hasRestorePrefix(cfg, targetInstanceId)) {
    throw new GuardRailError(
      `targetInstanceId "${targetInstanceId}" must start with the restore prefix "${cfg.restorePrefix}", e.g. "targetInstanceId": "${example}"`,
      { hint: 'rename the target; only prefixed instances can be restored to (nothing was changed)' },
    );
  }
  return targetInstanceId.toLowerCase();
}

/**
 * Check a restore target: a valid RDS id, not production, with the restore prefix, not existing
 * yet. Returns the id in lower case (what RDS will call it).
 */
export async function checkRestoreTarget(
  rds: RDSClient,
  cfg: RestoreGuardConfig,
  targetInstanceId: string,
  now: Date = new Date(),
): Promise<string> {
  checkRestoreTargetName(cfg, targetInstanceId, now);
  const example = exampleRestoreId(cfg, now);
  const existing = await describeInstanceIfExists(rds, targetInstanceId);
  if (existing) {
    throw new AlreadyExistsError(
      `targetInstanceId "${targetInstanceId}" already exists (status ${existing.DBInstanceStatus ?? 'unknown'}): a restore never overwrites an instance, e.g. "targetInstanceId": "${example}"`,
      {
        hint: `pick a new id, or check that restore with restore-status {"targetInstanceId": "${targetInstanceId.toLowerCase()}"} (nothing was changed)`,
      },
    );
  }
  return targetInstanceId.toLowerCase();
}

/**
 * The production instance a restore may be promoted into: the protected instance it was restored
 * from (its `kb-dr:protected-instance` tag; restores made before that tag existed carry only
 * `kb-dr:restored-from-instance`), when that is a configured production instance.
 */
export function promotableInto(config: RestoreGuardConfig, tags: Record<string, string>): string | undefined {
  if (!isManagedByKbDr(tags)) return undefined;
  const from = (tags[PROTECTED_INSTANCE_TAG_KEY] ?? tags[RESTORED_FROM_INSTANCE_TAG_KEY])?.toLowerCase();
  return from && isProductionInstanceId(config, from) ? from : undefined;
}
