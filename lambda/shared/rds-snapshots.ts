/**
 * Snapshot lookups, written once (AWS access layer): one snapshot by id, and every manual snapshot
 * of the account through the SDK's own paginator.
 */
import {
  DescribeDBSnapshotsCommand,
  paginateDescribeDBSnapshots,
  type DBSnapshot,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { isNotFound } from '../../core/errors';
import { translateAwsError } from './aws-errors';

/** The snapshot, or undefined when RDS says it does not exist; other faults are thrown as the SDK raised them. */
export async function findSnapshot(rds: RDSClient, snapshotId: string): Promise<DBSnapshot | undefined> {
  try {
    const res = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    return res.DBSnapshots?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The snapshot, or undefined when RDS says it does not exist. Other faults are translated. */
export async function describeSnapshotIfExists(
  rds: RDSClient,
  snapshotId: string,
): Promise<DBSnapshot | undefined> {
  try {
    return await findSnapshot(rds, snapshotId);
  } catch (err) {
    throw translateAwsError(err, { operation: `describe snapshot ${snapshotId}` });
  }
}

/** Every manual snapshot of the account and region, all pages; SDK faults are thrown raw. */
export async function listManualSnapshots(rds: RDSClient): Promise<DBSnapshot[]> {
  const out: DBSnapshot[] = [];
  for await (const page of paginateDescribeDBSnapshots({ client: rds }, { SnapshotType: 'manual' })) {
    out.push(...(page.DBSnapshots ?? []));
  }
  return out;
}
