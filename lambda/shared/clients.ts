/**
 * SDK client factories. Handlers create their clients once at module scope through these, so a
 * warm container reuses connections. Tests build clients pointed at moto or mocks instead.
 *
 * The SDK reads AWS_ENDPOINT_URL itself (that is how integration tests reach moto_server); S3 then
 * needs path-style addressing, because virtual-host style needs DNS for the bucket name.
 * Throttling and transient faults are retried by the SDK's standard retry strategy, never by a
 * hand-written loop.
 *
 * Every attempt is bounded: without `throwOnRequestTimeout` this SDK version only logs a warning
 * when `requestTimeout` passes, so a hung connection would hold the invocation until Lambda's own
 * timeout killed it, with nothing recorded and no retry of the attempt. With it, a hung attempt
 * ends in a TimeoutError that the retry strategy retries and `classifyFault` calls transient.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';

const MAX_ATTEMPTS = 5;

/** Per-attempt limits. Five attempts of at most connect + request stay well inside a 1-minute function. */
export interface ClientTimeouts {
  /** Time to establish the TCP/TLS connection. @default 3000 */
  readonly connectionTimeoutMs?: number;
  /** Time for one attempt's answer once connected. @default 10000 */
  readonly requestTimeoutMs?: number;
}

function baseConfig(timeouts: ClientTimeouts = {}) {
  return {
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'standard' as const,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs ?? 3_000,
      requestTimeout: timeouts.requestTimeoutMs ?? 10_000,
      throwOnRequestTimeout: true,
    },
  };
}

function usesCustomEndpoint(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3);
}

export function createRdsClient(timeouts?: ClientTimeouts): RDSClient {
  return new RDSClient(baseConfig(timeouts));
}

export function createS3Client(timeouts?: ClientTimeouts): S3Client {
  return new S3Client({ ...baseConfig(timeouts), forcePathStyle: usesCustomEndpoint() });
}

export function createCloudWatchClient(timeouts?: ClientTimeouts): CloudWatchClient {
  return new CloudWatchClient(baseConfig(timeouts));
}
