/**
 * Tag helpers, written once: RDS answers tags as a list (`TagList`), the restore functions keep
 * them as a record; both read the same way here. No AWS request is sent from this file.
 */
import type { Tag } from '@aws-sdk/client-rds';
import { MANAGED_BY_TAG } from '../../core/naming';

/** Tags as RDS answers them, or as a plain record. */
export type Tags = readonly Tag[] | Readonly<Record<string, string>> | undefined;

/** The value of tag `key`, if present. */
export function tagValue(tags: Tags, key: string): string | undefined {
  if (tags === undefined) return undefined;
  if (Array.isArray(tags)) return (tags as readonly Tag[]).find((t) => t.Key === key)?.Value;
  return (tags as Readonly<Record<string, string>>)[key];
}

/** Tags as a plain record. */
export function tagRecord(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key) out[t.Key] = t.Value ?? '';
  return out;
}

/** The time (ISO) stored in tag `key`, or undefined when absent or not a time. */
export function tagTime(tags: Tags, key: string): Date | undefined {
  const raw = tagValue(tags, key);
  if (!raw) return undefined;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** True when the tags say kb-dr made the resource. */
export function isManagedByKbDr(tags: Tags): boolean {
  return tagValue(tags, MANAGED_BY_TAG.key) === MANAGED_BY_TAG.value;
}
