/**
 * The emulated RDS data plane set up for the real verify-restore, shared by the drill steps that
 * verify restored data ("Verify restored data", "Weekly restore test"): real PostgreSQL behind
 * moto's instances with the Knowledge Base seeded, TLS on with a throwaway CA for RDS's endpoint
 * names, the read-only `kb_verify` role created with the runbook's SQL, and its login in a Secrets
 * Manager secret (moto). `verify()` points the instance's moto endpoint at its emulated cluster and
 * runs verify-restore's own logic, which writes the verification record where production does.
 */
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretLogin } from '../lambda/shared/verify-login';
import { verifyRoleSql } from '../lambda/shared/verify-settings';
import {
  verifyRestore,
  type VerifyRestoreDeps,
  type VerifyRestoreEvent,
  type VerifyRestoreResult,
} from '../lambda/verify-restore/verify-restore';
import { withClient } from '../harness/pg-cluster';
import { KB_SCHEMA_SQL, seedSql } from '../harness/postgres';
import { startRdsDataPlane, type RdsDataPlane } from '../harness/rds-data-plane';
import { makeTestCa, type TestCa } from '../harness/test-tls';
import { DRILL_BUCKET, DRILL_KMS_KEY_ARN, DRILL_PROD_ID, type AwsWorld } from './aws-world';

const VERIFY_PASSWORD = 'drill-kb-verify-not-a-secret';
/** The names moto gives instance endpoints; the drill CA's server certificate covers them. */
const MOTO_ENDPOINT_NAMES = ['*.aaaaaaaaaa.us-east-1.rds.amazonaws.com'];

export interface VerifiablePlane {
  readonly plane: RdsDataPlane;
  readonly tls: TestCa;
  /** verify-restore's dependencies as the drill wires them (moto clients, the secret, the CA). */
  readonly deps: VerifyRestoreDeps;
  /** RestoreVerification values verify-restore emitted, in order. */
  readonly metrics: readonly (readonly [string, number])[];
  /** Point `id`'s moto endpoint at its emulated cluster (from DescribeDBInstances). */
  mapInstance(id: string): Promise<void>;
  /** Map the instance's endpoint, then run verify-restore for it (writes the verification record). */
  verify(input: VerifyRestoreEvent): Promise<VerifyRestoreResult>;
  /** Stop every emulated cluster and remove the CA's files. */
  stop(): Promise<void>;
}

/**
 * Start the data plane for the protected instance with `entries` seeded entries, TLS, the
 * `kb_verify` role and its secret. On failure, whatever was started is stopped again.
 */
export async function startVerifiablePlane(
  world: AwsWorld,
  options: { readonly entries: number; readonly log: (line: string) => void },
): Promise<VerifiablePlane> {
  const tls = makeTestCa(MOTO_ENDPOINT_NAMES);
  let plane: RdsDataPlane | undefined;
  try {
    plane = await startRdsDataPlane({
      instanceId: DRILL_PROD_ID,
      log: options.log,
      initSql: [
        KB_SCHEMA_SQL,
        seedSql(options.entries),
        'CREATE ROLE rds_iam;', // exists on RDS
        verifyRoleSql(),
        `ALTER ROLE kb_verify PASSWORD '${VERIFY_PASSWORD}';`,
      ].join('\n'),
    });
    const p = plane;
    const prod = p.protectedInstance;
    for (const stmt of [...tls.enableSql, 'SELECT pg_reload_conf()'])
      await withClient(prod.port, prod.password, 'postgres', (c) => c.query(stmt));
    options.log(
      `emulated RDS: TLS on with a drill CA; read-only role kb_verify created with the runbook's SQL`,
    );
    const sm = new SecretsManagerClient({});
    const secretName = `kb-verify-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const secretArn = String(
      (
        await sm.send(
          new CreateSecretCommand({
            Name: secretName,
            SecretString: JSON.stringify({ username: 'kb_verify', password: VERIFY_PASSWORD }),
          }),
        )
      ).ARN,
    );
    options.log(`Secrets Manager (moto): kb_verify's login in ${secretName}`);
    const metrics: [string, number][] = [];
    const deps: VerifyRestoreDeps = {
      rds: world.rds,
      s3: world.s3,
      config: {
        dbInstanceId: DRILL_PROD_ID,
        backupBucket: DRILL_BUCKET,
        kmsKeyArn: DRILL_KMS_KEY_ARN,
        restorePrefix: 'kb-restore-',
        productionInstanceIds: [DRILL_PROD_ID],
      },
      settings: { mode: 'secret', database: prod.database, secretArn },
      login: secretLogin(sm, secretArn),
      ca: tls.ca,
      resolveEndpoint: (address, port) => p.resolve(address, port),
      metrics: { add: (def, value) => void metrics.push([def.name, value]) },
    };
    /** Maps the endpoint if RDS (moto) shows one; false when it has none yet. */
    const mapIfReachable = async (id: string): Promise<boolean> => {
      const i = (await world.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })))
        .DBInstances?.[0];
      if (!i?.Endpoint?.Address) return false;
      p.mapEndpoint(i.Endpoint.Address, i.Endpoint.Port ?? 5432, id);
      return true;
    };
    const mapInstance = async (id: string): Promise<void> => {
      if (!(await mapIfReachable(id)))
        throw new Error(`${id} has no endpoint in RDS (moto) yet: nothing to map to its emulated cluster`);
    };
    return {
      plane: p,
      tls,
      deps,
      metrics,
      mapInstance,
      async verify(input) {
        // No endpoint yet: verify-restore itself reports the instance as not available.
        await mapIfReachable(input.targetInstanceId);
        return verifyRestore(deps, input);
      },
      async stop() {
        try {
          await p.stopAll();
        } finally {
          tls.remove();
        }
      },
    };
  } catch (err) {
    try {
      await plane?.stopAll();
    } finally {
      tls.remove();
    }
    throw err;
  }
}
