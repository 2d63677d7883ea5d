/** RDS events as EventBridge delivers them to the reconcile function (for tests and the drill). */

/** An `RDS DB Snapshot Event` for `snapshotId`, e.g. RDS-EVENT-0042 (manual snapshot created). */
export function rdsSnapshotEvent(
  eventId: string,
  snapshotId: string,
  at = new Date(),
): Record<string, unknown> {
  return {
    version: '0',
    source: 'aws.rds',
    'detail-type': 'RDS DB Snapshot Event',
    time: at.toISOString(),
    region: 'us-east-1',
    detail: {
      EventID: eventId,
      SourceType: 'SNAPSHOT',
      SourceIdentifier: snapshotId,
      SourceArn: `arn:aws:rds:us-east-1:123456789012:snapshot:${snapshotId}`,
      Date: at.toISOString(),
      Message: eventId,
    },
  };
}
