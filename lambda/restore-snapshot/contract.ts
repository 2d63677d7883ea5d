/**
 * The restore-snapshot function's contract: its event (strict schema, a complete example and an example per
 * field for messages) and its answer. The CLI and the drill import this file, never the logic.
 */
import * as z from 'zod/mini';
import '../../core/zod-english';
import type { EventSpec } from '../shared/handler-response';
import type { SourceSettings } from '../shared/restore-common';

export const RestoreSnapshotEventSchema = z.strictObject({
  snapshotId: z.string(),
  targetInstanceId: z.string(),
  /** The protected instance whose backup this is. @default the configured protected instance */
  sourceInstanceId: z.optional(z.string()),
  confirm: z.optional(z.boolean()),
  dryRun: z.optional(z.boolean()),
});

export type RestoreSnapshotEvent = z.infer<typeof RestoreSnapshotEventSchema>;

export const RESTORE_SNAPSHOT_EVENT: EventSpec<typeof RestoreSnapshotEventSchema> = {
  functionName: 'restore-snapshot',
  schema: RestoreSnapshotEventSchema,
  example: { snapshotId: 'latest', targetInstanceId: 'kb-restore-drill-1', confirm: true, dryRun: false },
  fieldExamples: {
    snapshotId: '"latest" or "kb-snapshot-20261122-020000"',
    targetInstanceId: '"kb-restore-drill-1"',
    sourceInstanceId: '"kb-prod"',
    confirm: 'true',
    dryRun: 'false',
  },
};

export interface RestoreSnapshotResult {
  readonly ok: true;
  readonly dryRun: boolean;
  /** `started`: the restore is running; `plan`: dry run, nothing changed. */
  readonly action: 'started' | 'plan';
  readonly snapshot: {
    readonly id: string;
    readonly resolvedFrom: 'latest' | 'id';
    readonly createdAt?: string;
    readonly sourceInstanceId?: string;
    readonly encrypted: boolean;
  };
  /** The protected instance this backup is of (tagged on the new instance). */
  readonly protectedInstanceId: string;
  /** The source's tags copied onto the new instance, and those dropped for RDS's 50-tag limit. */
  readonly tags: { readonly copied: readonly string[]; readonly dropped: readonly string[] };
  readonly targetInstanceId: string;
  readonly settings: SourceSettings;
  readonly warnings: readonly string[];
  readonly startedAt?: string;
  readonly status?: string;
  /** Set when the restore call's answer was lost and reading state showed it had started. */
  readonly resolvedFromState?: string;
  /** What to run next, with the exact event. */
  readonly next: {
    readonly function: string;
    readonly event: Readonly<Record<string, unknown>>;
    readonly say: string;
  };
}
