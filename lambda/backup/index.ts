/**
 * Backup function: target of the nightly schedule (payload `{"time": "<scheduled time>"}`) and of
 * on-demand requests (`{"reason": "..."}`). Requests tonight's snapshot and returns; the RDS
 * events and the reconcile function take it from there.
 */
import { createRdsClient, createS3Client } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { KbDrError } from '../shared/errors';
import { createLogger, createMetrics } from '../shared/powertools';
import { parseBackupRequest, startBackup, type StartBackupResult } from './start-backup';

const config = loadRuntimeConfig();
const logger = createLogger('kb-backup');
const metrics = createMetrics('kb-backup', config.dbInstanceId);
const deps = { rds: createRdsClient(), s3: createS3Client(), logger, metrics, now: () => new Date() };

export const handler = async (event: unknown): Promise<StartBackupResult> => {
  try {
    const request = parseBackupRequest(event, deps.now());
    return await startBackup(deps, config, request);
  } catch (err) {
    if (err instanceof KbDrError) logger.error(err.userMessage, { error: err.name });
    throw err;
  } finally {
    logger.resetKeys();
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};
