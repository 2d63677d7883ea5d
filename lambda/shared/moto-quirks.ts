/**
 * The one place that knows where moto_server (the emulator the integration tests and the drill
 * run on) answers differently from RDS, and how kb-dr reads both the same way. Each quirk is
 * handled so that real AWS answers pass through unchanged.
 *
 * Known quirks (moto_server 5.2.1), and where they are absorbed:
 * - StartExportTask/DescribeExportTasks report `complete` in lower case (AWS: `COMPLETE`):
 *   `exportStatusOf` below.
 * - DescribeDBInstanceAutomatedBackups returns no `RestoreWindow` (some real accounts neither):
 *   restore-pitr falls back to the instance's retention period (computeRestoreWindow).
 * - S3 on a custom endpoint needs path-style addressing: clients.ts sets `forcePathStyle` when
 *   AWS_ENDPOINT_URL is set.
 */
import type { ExportTask } from '@aws-sdk/client-rds';

/** An export task status, upper-cased (moto answers `complete`, AWS `COMPLETE`); `UNKNOWN` when absent. */
export function normaliseExportStatus(status: string | undefined): string {
  return (status ?? 'UNKNOWN').toUpperCase();
}

/** The export task's status as AWS spells it. */
export function exportStatusOf(task: Pick<ExportTask, 'Status'>): string {
  return normaliseExportStatus(task.Status);
}
