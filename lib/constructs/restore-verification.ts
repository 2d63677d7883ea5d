import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { deployedFunctionName } from '../../core/functions';
import { MANIFESTS_S3_PREFIX } from '../../core/naming';
import { RESTORE_READY_EVENT_IDS } from '../../core/rds-event';
import { VERIFICATIONS_S3_PREFIX } from '../../core/verification';
import { VERIFY_ENV } from '../../lambda/shared/verify-settings';
import type { KbDrConfig } from '../config';
import { acknowledgeWildcard, crossStackArn, nagArnPrefix, nagArnRef } from '../nag';
import type * as cr from 'aws-cdk-lib/custom-resources';
import { addTestEventSchema, loadConsoleEvents } from './console-test-events';
import { applyGrants, type GrantRow } from './grant-table';
import { KbFunction } from './kb-function';
import { runtimeEnvironment, type StorageResources } from './storage-resources';

export interface RestoreVerificationProps {
  /**
   * Configuration; this construct uses `verification` (VPC, subnets, security group, login; when
   * undefined the function runs outside any VPC and records NOT_CONFIGURED), `restoreInstancePrefix`,
   * `functionNamePrefix` and `shareableTestEvents`.
   */
  readonly config: KbDrConfig;
  readonly storage: StorageResources;
  /** restore-status reads the verification records and is told whether verification is configured. */
  readonly restoreStatus: KbFunction;
  /** Examples from docs/events for the console (`verify-restore.*.json`). @default none */
  readonly testEvents?: Readonly<Record<string, unknown>>;
  /** The registry call ConsoleTestEvents made (the schema depends on it). @default none: no test events */
  readonly testEventRegistry?: cr.AwsCustomResource;
}

/**
 * verify-restore: data checks of every restored kb-restore-* instance, run when RDS says a restore
 * is ready and by a 15-minute backstop pass; results stored under `verifications/` in the backup
 * bucket and reported by restore-status.
 */
export class RestoreVerification extends Construct {
  readonly verifyFunction: KbFunction;
  readonly readyRule: events.Rule;
  readonly backstop: scheduler.Schedule;
  readonly configured: boolean;

  constructor(scope: Construct, id: string, props: RestoreVerificationProps) {
    super(scope, id);
    const { config, storage } = props;
    const stack = Stack.of(this);
    const v = config.verification;
    this.configured = v !== undefined;
    const mode = v ? v.auth : 'not-configured';
    const verifyEnv: Record<string, string> = {
      [VERIFY_ENV.mode]: mode,
      ...(v ? { [VERIFY_ENV.database]: v.database } : {}),
      ...(v?.auth === 'iam' ? { [VERIFY_ENV.dbUser]: v.dbUser } : {}),
      ...(v?.secretArn ? { [VERIFY_ENV.secretArn]: v.secretArn } : {}),
    };

    const fn = new KbFunction(this, 'VerifyRestore', {
      functionDir: 'verify-restore',
      description: v
        ? 'kb-dr: data checks of a restored kb-restore-* instance (counts vs backup, PITR target); emits RestoreVerification'
        : 'kb-dr: data checks of restored instances (NOT CONFIGURED: no VPC settings; records NOT_CONFIGURED)',
      logGroup: storage.restoreLogGroup,
      environment: { ...runtimeEnvironment(config, storage), ...verifyEnv },
      timeout: Duration.minutes(5),
    });
    const cfn = fn.function.node.defaultChild as lambda.CfnFunction;
    cfn.functionName = deployedFunctionName(config.functionNamePrefix, 'verify-restore');
    this.verifyFunction = fn;
    props.restoreStatus.function.addEnvironment(VERIFY_ENV.mode, mode);

    const rdsArn = (resource: string) =>
      `arn:${stack.partition}:rds:${stack.region}:${stack.account}:${resource}`;
    const IAM5 = 'AwsSolutions-IAM5';
    // Backup bucket: read manifests (recorded counts), read and write verification records.
    const bucketRef = crossStackArn(this, storage.backupBucket, storage.backupBucket.bucketArn);
    const readBucket = (prefixes: readonly string[]): GrantRow[] => [
      // Unconditioned: GetObject of a record not written yet answers 404 only with s3:ListBucket.
      { sid: 'ListBackupBucket', actions: ['s3:ListBucket'], resources: [bucketRef.value] },
      {
        sid: 'ReadVerificationInputs',
        actions: ['s3:GetObject'],
        resources: prefixes.map((p) => `${bucketRef.value}/${p}`),
        nag: prefixes.map((p) => ({
          rule: IAM5,
          resource: `${bucketRef.nag}/${p}`,
          reason: `read-only access to the backup bucket's ${p.replace('/*', '/')} prefix, whose object names are per backup or per restored instance`,
        })),
      },
      // SSE-KMS objects: reading them needs the backup key.
      { actions: ['kms:Decrypt'], resources: [storage.backupKey.keyArn] },
    ];

    applyGrants(fn.role, [
      {
        sid: 'DescribeInstances',
        actions: ['rds:DescribeDBInstances'],
        resources: [rdsArn('db:*')],
        nag: [
          {
            rule: IAM5,
            resource: `${nagArnPrefix(this, 'rds')}db:*`,
            reason:
              'read-only DescribeDBInstances: the periodic pass lists instances to find the restored ones (their ids are chosen at restore time); the function connects only to kb-restore-* instances carrying kb-dr restore tags (checked in code)',
          },
        ],
      },
      ...readBucket([`${MANIFESTS_S3_PREFIX}/*`, `${VERIFICATIONS_S3_PREFIX}/*`]),
      {
        sid: 'WriteVerificationRecords',
        actions: ['s3:PutObject'],
        resources: [`${bucketRef.value}/${VERIFICATIONS_S3_PREFIX}/*`],
      },
      // SSE-KMS PutObject: S3 asks KMS for a data key with the caller's identity.
      { actions: ['kms:GenerateDataKey'], resources: [storage.backupKey.keyArn] },
      ...(v ? verificationLoginGrants(this, v) : []),
    ]);
    applyGrants(props.restoreStatus.role, readBucket([`${VERIFICATIONS_S3_PREFIX}/*`]));
    // In the VPC: the function's own security group; the database's must allow 5432 from it.
    if (v) cfn.vpcConfig = { subnetIds: [...v.subnetIds], securityGroupIds: [v.securityGroupId] };

    // When a restored instance is ready (RDS event), and every 15 minutes as the backstop.
    this.readyRule = new events.Rule(this, 'RestoreReadyRule', {
      description: `kb-dr: a ${config.restoreInstancePrefix}* instance was created or restored; verify its data`,
      eventPattern: {
        source: ['aws.rds'],
        detailType: ['RDS DB Instance Event'],
        detail: {
          EventID: [...RESTORE_READY_EVENT_IDS],
          SourceIdentifier: [{ prefix: config.restoreInstancePrefix.toLowerCase() }],
        },
      },
      targets: [
        new eventTargets.LambdaFunction(fn.function, { retryAttempts: 2, maxEventAge: Duration.hours(1) }),
      ],
    });
    const schedulerRole = new iam.Role(this, 'BackstopSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the kb-dr verify-restore periodic pass',
    });
    acknowledgeWildcard(
      schedulerRole,
      { resource: `${nagArnRef(fn.function)}:*` },
      'lambda:InvokeFunction granted on the verify-restore function and its versions/aliases only (CDK grantInvoke adds the qualifier wildcard)',
    );
    this.backstop = new scheduler.Schedule(this, 'BackstopPass', {
      description: 'kb-dr: verify available kb-restore-* instances that have no verification record yet',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(15)),
      target: new targets.LambdaInvoke(fn.function, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ pass: true }),
        retryAttempts: 1,
        maxEventAge: Duration.minutes(15),
      }),
    });

    const registry = props.testEventRegistry;
    if (
      config.shareableTestEvents &&
      registry &&
      props.testEvents &&
      Object.keys(props.testEvents).length > 0
    ) {
      addTestEventSchema(this, 'VerifyRestoreTestEvents', {
        functionName: deployedFunctionName(config.functionNamePrefix, 'verify-restore'),
        examples: props.testEvents,
        registry,
      });
    }
    new CfnOutput(this, 'VerifyRestoreFunctionName', {
      value: fn.function.functionName,
      description: v
        ? 'kb-dr verify-restore: {"targetInstanceId": "kb-restore-..."} checks a restored instance'
        : 'kb-dr verify-restore (NOT CONFIGURED: set the verifyVpcId, verifySubnetIds and verifySecurityGroupId settings)',
    });
  }
}

/** `docs/events/verify-restore.<name>.json`: the console examples of verify-restore. */
export function loadVerifyRestoreEvents(dir?: string): Record<string, unknown> {
  return (dir === undefined ? loadConsoleEvents() : loadConsoleEvents(dir))['verify-restore'] ?? {};
}

/** What verify-restore needs in the VPC and to log in: network interfaces, then IAM auth or the secret. */
function verificationLoginGrants(scope: Construct, v: NonNullable<KbDrConfig['verification']>): GrantRow[] {
  const stack = Stack.of(scope);
  const IAM5 = 'AwsSolutions-IAM5';
  const vpcAccess: GrantRow = {
    sid: 'ManageVpcNetworkInterfaces',
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
    nag: [
      {
        rule: IAM5,
        resource: '*',
        reason:
          "Lambda attaches a VPC function with network interfaces it creates under the execution role: these are the actions of AWS's AWSLambdaVPCAccessExecutionRole, whose ec2:Describe* calls support no resource scope and whose interface ids are generated",
      },
    ],
  };
  if (v.auth === 'iam') {
    // rds-db:connect as the read-only role only: a token for any other database user is refused.
    return [
      vpcAccess,
      {
        sid: 'ConnectAsReadOnlyRole',
        actions: ['rds-db:connect'],
        resources: [`arn:${stack.partition}:rds-db:${stack.region}:${stack.account}:dbuser:*/${v.dbUser}`],
        nag: [
          {
            rule: IAM5,
            resource: `${nagArnPrefix(scope, 'rds-db')}dbuser:*/${v.dbUser}`,
            reason: `the DbiResourceId (db-...) of a restored instance is generated by RDS at restore time; the user is fixed to the read-only role ${v.dbUser}`,
          },
        ],
      },
    ];
  }
  return v.secretArn
    ? [
        vpcAccess,
        {
          sid: 'ReadVerifyLoginSecret',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [v.secretArn],
        },
      ]
    : [vpcAccess];
}
