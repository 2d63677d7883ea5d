/** Export task lookups, written once (AWS access layer), through the SDK's own paginator. */
import { paginateDescribeExportTasks, type ExportTask, type RDSClient } from '@aws-sdk/client-rds';

/** Every export task of a snapshot (by its ARN), all pages; SDK faults are thrown raw. */
export async function listExportTasksOf(
  rds: RDSClient,
  snapshotArn: string | undefined,
): Promise<ExportTask[]> {
  const out: ExportTask[] = [];
  for await (const page of paginateDescribeExportTasks({ client: rds }, { SourceArn: snapshotArn })) {
    out.push(...(page.ExportTasks ?? []));
  }
  return out;
}
