/**
 * An error shaped exactly as the SDK throws it, with nothing added: the fault classifier and the
 * error translation read `name`, `$metadata.httpStatusCode` and the SDK's own markers (`$retryable`,
 * `$fault`) that a test passes in `extra`. (test/support/backup-fixtures.ts `awsError` always sets
 * `$fault: 'client'`, which these tests must be able to leave out.)
 */
export function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
    ...extra,
  });
}
