/**
 * SDK client factories. Handlers create their clients once at module scope through these, so a
 * warm container reuses connections. Tests build clients pointed at moto or mocks instead.
 *
 * The SDK reads AWS_ENDPOINT_URL itself (that is how integration tests reach moto_server); S3 then
 * needs path-style addressing, because virtual-host style needs DNS for the bucket name.
 * Throttling is retried by the SDK's standard retry strategy, never by a hand-written loop.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';

const MAX_ATTEMPTS = 5;

function usesCustomEndpoint(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3);
}

export function createRdsClient(): RDSClient {
  return new RDSClient({ maxAttempts: MAX_ATTEMPTS, retryMode: 'standard' });
}

export function createS3Client(): S3Client {
  return new S3Client({
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'standard',
    forcePathStyle: usesCustomEndpoint(),
  });
}

export function createCloudWatchClient(): CloudWatchClient {
  return new CloudWatchClient({ maxAttempts: MAX_ATTEMPTS, retryMode: 'standard' });
}
