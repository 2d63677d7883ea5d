/**
 * The restore-pitr function's contract: its event (strict schema, a complete example and an example per
 * field for messages) and its answer. The CLI and the drill import this file, never the logic.
 */
import * as z from 'zod/mini';
import '../../core/zod-english';
import type { EventSpec } from '../shared/handler-response';
import type { SourceSettings } from '../shared/restore-common';

export const RestorePitrEventSchema = z.strictObject({
  targetTime: z.string(),
  targetInstanceId: z.string(),
  sourceInstanceId: z.optional(z.string()),
  confirm: z.optional(z.boolean()),
  dryRun: z.optional(z.boolean()),
});

export type RestorePitrEvent = z.infer<typeof RestorePitrEventSchema>;

export const RESTORE_PITR_EVENT: EventSpec<typeof RestorePitrEventSchema> = {
  functionName: 'restore-pitr',
  schema: RestorePitrEventSchema,
  example: {
    targetTime: '2026-11-22T01:30:00Z',
    targetInstanceId: 'kb-restore-pitr-1',
    confirm: true,
    dryRun: false,
  },
  fieldExamples: {
    targetTime: '"2026-11-22T01:30:00Z" or "latest"',
    targetInstanceId: '"kb-restore-pitr-1"',
    sourceInstanceId: '"kb-prod"',
    confirm: 'true',
    dryRun: 'false',
  },
};

export interface RestorePitrResult {
  readonly ok: true;
  readonly dryRun: boolean;
  readonly action: 'started' | 'plan';
  readonly sourceInstanceId: string;
  /** The requested time in UTC, or the LatestRestorableTime at the request for `latest`. */
  readonly restoreTime: string;
  readonly useLatestRestorableTime: boolean;
  readonly window: {
    readonly earliest: string;
    readonly latest: string;
    readonly earliestFrom: string;
    /** Where the window came from (automated backups, or the instance's own times as a fallback). */
    readonly source: string;
  };
  /** The protected instance this restore is a copy of (tagged on the new instance). */
  readonly protectedInstanceId: string;
  /** The source's tags copied onto the new instance, and those dropped for RDS's 50-tag limit. */
  readonly tags: { readonly copied: readonly string[]; readonly dropped: readonly string[] };
  /** Set when the restore call's answer was lost and reading state showed it had started. */
  readonly resolvedFromState?: string;
  readonly targetInstanceId: string;
  readonly settings: SourceSettings;
  readonly warnings: readonly string[];
  readonly startedAt?: string;
  readonly status?: string;
  readonly next: {
    readonly function: string;
    readonly event: Readonly<Record<string, unknown>>;
    readonly say: string;
  };
}
