/** What the drill's steps share: the embedded environment and the figures they measure. */
import type { MotoServer } from '../harness/moto';
import type { AwsWorld } from './aws-world';
import type { TestPostgres } from '../harness/postgres';

export const KB_DATABASE = 'knowledge_base';

export interface DrillOptions {
  /** Entries seeded into the Knowledge Base. */
  readonly entries: number;
  /** Folder for the report, the timeline and the local backups. */
  readonly outDir: string;
}

export interface DrillContext {
  readonly options: DrillOptions;
  /** What the preflight found (tool, version, folder), for the report. */
  readonly prerequisites?: readonly string[];
  pg?: TestPostgres;
  moto?: MotoServer;
  aws?: AwsWorld;
  /** The snapshot the emulated night produced. */
  snapshotId?: string;
  /** Figures the summary reports against the RTO/RPO targets. */
  readonly measured: {
    localRestoreSeconds?: number;
    /** The local restore's throughput, as its summary prints it (e.g. `12.3 MB/s of backup file, ...`). */
    localRestoreThroughput?: string;
    localDataLossSeconds?: number;
    localEntriesLost?: number;
    rdsRestoreStartSeconds?: number;
    pitrGapSeconds?: number;
  };
}
