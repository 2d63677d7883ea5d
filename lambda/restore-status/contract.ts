/**
 * The restore-status function's contract: its event (strict schema, a complete example and an example per
 * field for messages) and its answer. The CLI and the drill import this file, never the logic.
 */
import * as z from 'zod/mini';
import '../../core/zod-english';
import type { EventSpec } from '../shared/handler-response';

export const RestoreStatusEventSchema = z.strictObject({
  targetInstanceId: z.string().check(z.minLength(1)),
});

export type RestoreStatusEvent = z.infer<typeof RestoreStatusEventSchema>;

export const RESTORE_STATUS_EVENT: EventSpec<typeof RestoreStatusEventSchema> = {
  functionName: 'restore-status',
  schema: RestoreStatusEventSchema,
  example: { targetInstanceId: 'kb-restore-drill-1' },
  fieldExamples: { targetInstanceId: '"kb-restore-drill-1"' },
};

export type RestorePhase = 'in-progress' | 'available' | 'failed';

/** A restore's data verification, as restore-status reports it. */
export interface RestoreVerificationStatus {
  readonly status: 'verified' | 'failed' | 'not-configured' | 'pending' | 'unreadable';
  /** e.g. "verified: 100,000 entries, as recorded at backup; newest entry 01:59:58Z" */
  readonly summary: string;
  /** The checks' lines (validate-backup's format). */
  readonly report?: readonly string[];
  readonly verifiedAt?: string;
}

export interface RestoreStatusResult {
  readonly ok: true;
  readonly targetInstanceId: string;
  readonly state: string;
  readonly phase: RestorePhase;
  readonly restoredFrom: {
    readonly snapshotId?: string;
    readonly instanceId?: string;
    /** The protected instance it is a copy of. */
    readonly protectedInstanceId?: string;
    readonly toTime?: string;
  };
  /** Bookkeeping that could not be done (the status above is still right), and what it affects. */
  readonly warnings?: readonly string[];
  readonly restoreStartedAt?: string;
  readonly availableAt?: string;
  /** Seconds since the restore started, frozen once the instance was first seen available. */
  readonly elapsedSeconds?: number;
  readonly elapsed?: string;
  readonly rto: {
    readonly targetSeconds: number;
    readonly remainingSeconds?: number;
    readonly met?: boolean;
  };
  readonly endpoint?: { readonly address: string; readonly port: number };
  /** What is left to do, in order. */
  readonly todo: readonly string[];
  /** The data verification of an available restore (verify-restore's stored record). */
  readonly verification?: RestoreVerificationStatus;
  /** `available; verified: ...` when the instance is available. */
  readonly summary?: string;
  /** The promote-restore event, when the instance is an available kb-dr restore. */
  readonly promoteEvent?: Readonly<Record<string, unknown>>;
}
