/**
 * The promote-restore function's contract: its event (strict schema, a complete example and an example per
 * field for messages) and its answer. The CLI and the drill import this file, never the logic.
 */
import * as z from 'zod/mini';
import '../../core/zod-english';
import type { EventSpec } from '../shared/handler-response';

export const PromoteRestoreEventSchema = z.strictObject({
  restoredInstanceId: z.string().check(z.minLength(1)),
  productionInstanceId: z.string().check(z.minLength(1)),
  confirm: z.optional(z.boolean()),
  forceProduction: z.optional(z.boolean()),
  dryRun: z.optional(z.boolean()),
  /** Promote a copy not encrypted like production (unencrypted, or another KMS key): needs `reason`. */
  allowEncryptionMismatch: z.optional(z.boolean()),
  /** Why the encryption mismatch is accepted; echoed in the answer. */
  reason: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
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
    allowEncryptionMismatch: 'true',
    reason: '"production key was deleted; copy re-encrypted with kb-dr key, approved by J. Doe"',
  },
};

export interface EncryptionComparison {
  readonly restored: { readonly encrypted: boolean; readonly kmsKeyId?: string };
  /** Undefined when there is no production instance to compare with. */
  readonly production?: { readonly encrypted: boolean; readonly kmsKeyId?: string };
  readonly matches: boolean;
  /** Why it does not match, when it does not. */
  readonly mismatch?: string;
}

export interface PromoteRestoreResult {
  readonly ok: true;
  readonly dryRun: boolean;
  readonly action: 'promoted' | 'plan';
  readonly productionInstanceId: string;
  readonly restoredInstanceId: string;
  /** Where the old production went; undefined when there was no production instance to set aside. */
  readonly asideInstanceId?: string;
  /** How the restored copy is encrypted against production, and any override with its reason. */
  readonly encryption: EncryptionComparison & { readonly override?: { readonly reason: string } };
  readonly steps: readonly string[];
  readonly next: readonly string[];
}
