/**
 * What the backup pipeline's logic takes (settings, clients, telemetry, a clock), in a file that
 * imports no logic, so the handler wrapper can name it without pulling pipeline code into the
 * restore functions.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RuntimeConfig } from './env';
import type { MetricSink } from './powertools';

/** Settings the pipeline reads; a subset of the Lambda runtime configuration. */
export type PipelineConfig = Pick<
  RuntimeConfig,
  'dbInstanceId' | 'backupBucket' | 'exportRoleArn' | 'kmsKeyArn' | 'retentionDays'
> & {
  /**
   * A backup whose export has not started this many hours after its snapshot was requested is
   * recorded as FAILED (snapshot stuck in `creating`, or StartExportTask refused every time).
   * @default 6
   */
  readonly exportStartDeadlineHours?: number;
};

export const DEFAULT_EXPORT_START_DEADLINE_HOURS = 6;

/** Clients, telemetry and a clock: everything the pipeline logic touches outside itself. */
export interface PipelineDeps {
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly logger: Logger;
  readonly metrics: MetricSink;
  /** The current time; tests pass a fixed clock. */
  readonly now: () => Date;
}
