/**
 * The emulated RDS data plane set up for the real verify-restore, shared by the drill steps that
 * verify restored data ("Verify restored data", "Weekly restore test"). verify-restore's logic runs
 * here, with its clients and an endpoint resolver as arguments (the drill imports functions only
 * through their contracts; the handler has no seam for emulated endpoints). Real PostgreSQL behind
 * moto's instances with the Knowledge Base seeded, TLS on with a throwaway CA for RDS's endpoint
 * names, the read-only `kb_verify` role created with the runbook's SQL, and its login in a Secrets
 * Manager secret (moto). `verify()` points the instance's moto endpoint at its emulated cluster and
 * runs verify-restore's own logic, which writes the verification record where production does.
 */
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import { secretLogin } from '../lambda/shared/verify-login';
import { verifyRoleSql } from '../lambda/shared/verify-settings';
import type { VerifyRestoreEvent, VerifyRestoreResult } from '../lambda/verify-restore/contract';
import { verifyRestore, type VerifyRestoreDeps } from '../lambda/verify-restore/verify-restore';
import { withClient } from './pg-cluster';
import { KB_SCHEMA_SQL, seedSql } from './postgres';
import { startRdsDataPlane, type RdsDataPlane } from './rds-data-plane';
import { makeTestCa, type TestCa } from './test-tls';

const VERIFY_PASSWORD = 'emulated-kb-verify-not-a-secret';
/** The names moto gives instance endpoints; the CA's server certificate covers them. */
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

export interface VerifiablePlaneOptions {
  /** Clients on moto: the instances (DescribeDBInstances) and the backup bucket. */
  readonly rds: RDSClient;
  readonly s3: S3Client;
  /** verify-restore's configuration; `dbInstanceId` is the protected instance the plane starts. */
  readonly config: VerifyRestoreDeps['config'];
  /** Entries seeded into the protected instance. */
  readonly entries: number;
  readonly log: (line: string) => void;
}

/**
 * Start the data plane for the protected instance with `entries` seeded entries, TLS, the
 * `kb_verify` role and its secret. On failure, whatever was started is stopped again.
 */
export async function startVerifiablePlane(options: VerifiablePlaneOptions): Promise<VerifiablePlane> {
  const tls = makeTestCa(MOTO_ENDPOINT_NAMES);
  let plane: RdsDataPlane | undefined;
  try {
    plane = await startRdsDataPlane({
      instanceId: options.config.dbInstanceId,
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
      `emulated RDS: TLS on with a throwaway CA; read-only role kb_verify created with the runbook's SQL`,
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
      rds: options.rds,
      s3: options.s3,
      config: options.config,
      settings: { mode: 'secret', database: prod.database, secretArn },
      login: secretLogin(sm, secretArn),
      ca: tls.ca,
      resolveEndpoint: (address, port) => p.resolve(address, port),
      metrics: { add: (def, value) => void metrics.push([def.name, value]) },
    };
    /** Maps the endpoint if RDS (moto) shows one; false when it has none yet. */
    const mapIfReachable = async (id: string): Promise<boolean> => {
      const i = (await options.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })))
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
