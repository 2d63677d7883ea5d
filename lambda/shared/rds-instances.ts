/**
 * Instance lookups, written once (AWS access layer): one instance by id, with RDS's "not found"
 * answered as `undefined` rather than an error.
 */
import { DescribeDBInstancesCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import { isNotFound } from '../../core/errors';
import { translateAwsError } from './aws-errors';

/** The instance, or undefined when RDS says it does not exist; other faults are thrown as the SDK raised them. */
export async function findInstance(rds: RDSClient, id: string): Promise<DBInstance | undefined> {
  try {
    const res = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return res.DBInstances?.[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * The instance; when RDS says it does not exist, throws `notFound(cause)` (cause: the SDK's fault,
 * or undefined for an empty answer), so the caller's error keeps the AWS error code. Other faults
 * are thrown as the SDK raised them.
 */
export async function requireInstance(
  rds: RDSClient,
  id: string,
  notFound: (cause: unknown) => Error,
): Promise<DBInstance> {
  let instance: DBInstance | undefined;
  try {
    const res = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    instance = res.DBInstances?.[0];
  } catch (err) {
    if (isNotFound(err)) throw notFound(err);
    throw err;
  }
  if (!instance) throw notFound(undefined);
  return instance;
}

/** The instance, or undefined when RDS says it does not exist. Other faults are translated. */
export async function describeInstanceIfExists(rds: RDSClient, id: string): Promise<DBInstance | undefined> {
  try {
    return await findInstance(rds, id);
  } catch (err) {
    throw translateAwsError(err, { operation: `describe DB instance ${id}` });
  }
}
