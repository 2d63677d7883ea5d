/**
 * The validate-backup function's contract: its event (strict schema, a complete example and an example per
 * field for messages) and its answer. The CLI and the drill import this file, never the logic.
 */
import * as z from 'zod/mini';
import '../../core/zod-english';
import type { EventSpec } from '../shared/handler-response';

export const ValidateBackupEventSchema = z.strictObject({ snapshotId: z.string().check(z.minLength(1)) });

export type ValidateBackupEvent = z.infer<typeof ValidateBackupEventSchema>;

export const VALIDATE_BACKUP_EVENT: EventSpec<typeof ValidateBackupEventSchema> = {
  functionName: 'validate-backup',
  schema: ValidateBackupEventSchema,
  example: { snapshotId: 'latest' },
  fieldExamples: { snapshotId: '"latest" or "kb-snapshot-20261122-020000"' },
};

export type CheckStatus = 'PASS' | 'FAIL' | 'SKIP';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface ReportBase {
  readonly snapshotId: string;
  readonly checks: readonly CheckResult[];
  /** One line per check: `PASS snapshot is encrypted: ...`. */
  readonly report: readonly string[];
}

export type ValidateBackupResult =
  | (ReportBase & { readonly ok: true; readonly result: 'PASS' })
  | (ReportBase & {
      readonly ok: false;
      readonly result: 'FAIL';
      readonly error: string;
      readonly hint: string;
      readonly errorType: 'BackupValidationFailed';
      readonly retryable: false;
    });
