import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { PROTECTED_INSTANCE_TAG_KEY } from '../../core/naming';
import { deployedFunctionName, RESTORE_FUNCTIONS, type RestoreFunction } from '../../core/functions';
import { DEFAULT_RESTORE_PREFIX, isValidRestorePrefix, RESTORE_PREFIX_RULE } from '../../core/limits';
import type { KbDrConfig } from '../config';
import { acknowledgeCustomResourceProvider } from '../nag';
import { pascalCase } from './console-test-events';
import { applyGrants } from './grant-table';
import { KbFunction } from './kb-function';
import { restorePermissions } from './restore-permissions';
import { runtimeEnvironment, type StorageResources } from './storage-resources';

/** The restore functions, by their folder under `lambda/` (the function catalog). */
export const RESTORE_FUNCTION_DIRS = RESTORE_FUNCTIONS;
export type RestoreFunctionDir = RestoreFunction;

export interface RestoreFunctionsProps {
  /**
   * Configuration; this construct uses `functionNamePrefix` (physical names `<prefix>-<function>`,
   * e.g. `kb-dr-restore-snapshot`, so on-call finds them in the console and the CLI invokes them by
   * name), `restoreInstancePrefix`, `dbInstanceId` and `productionInstanceIds`.
   */
  readonly config: KbDrConfig;
  readonly storage: StorageResources;
}

const FUNCTION_SPECS: Record<
  RestoreFunctionDir,
  { readonly description: string; readonly timeout: Duration; readonly memorySize?: number }
> = {
  'restore-snapshot': {
    description: 'kb-dr on-call: restore a kb-dr backup ("latest" or an id) to a NEW kb-restore-* instance',
    timeout: Duration.minutes(1),
  },
  'restore-pitr': {
    description: 'kb-dr on-call: point-in-time restore to a NEW kb-restore-* instance (window checked)',
    timeout: Duration.minutes(1),
  },
  'restore-status': {
    description: 'kb-dr on-call: restore state, RTO clock, endpoint and next steps',
    timeout: Duration.seconds(30),
  },
  'validate-backup': {
    description: 'kb-dr: PASS/FAIL report on one backup (weekly on latest); emits BackupValidation',
    timeout: Duration.minutes(5),
  },
  'promote-restore': {
    description:
      'kb-dr on-call: put a restored instance behind the production name (renames production aside, never deletes)',
    // Waits for the first rename in-process, within this timeout minus a safety margin.
    timeout: Duration.minutes(15),
  },
};

/**
 * The on-call restore and validation functions with their permissions (restore-permissions.ts,
 * one table per function) and the deploy-time tag on the protected instances that restore-pitr's
 * IAM fence relies on. The weekly validation (weekly-validation.ts) and the console test events
 * (console-test-events.ts) are constructs of their own.
 */
export class RestoreFunctions extends Construct {
  readonly functions: Readonly<Record<RestoreFunctionDir, KbFunction>>;

  constructor(scope: Construct, id: string, props: RestoreFunctionsProps) {
    super(scope, id);
    const { config, storage } = props;
    const restorePrefix = config.restoreInstancePrefix.toLowerCase();
    if (!isValidRestorePrefix(restorePrefix)) {
      throw new Error(
        `restoreInstancePrefix "${config.restoreInstancePrefix}" must be ${RESTORE_PREFIX_RULE}, e.g. "${DEFAULT_RESTORE_PREFIX}"`,
      );
    }
    const productionIds = [
      ...new Set([config.dbInstanceId, ...config.productionInstanceIds].map((i) => i.toLowerCase())),
    ];

    const environment = runtimeEnvironment(config, storage);
    const fns = {} as Record<RestoreFunctionDir, KbFunction>;
    for (const dir of RESTORE_FUNCTION_DIRS) {
      const spec = FUNCTION_SPECS[dir];
      const fn = new KbFunction(this, pascalCase(dir), {
        functionDir: dir,
        description: spec.description,
        logGroup: storage.restoreLogGroup,
        environment,
        timeout: spec.timeout,
      });
      // A stable, readable name: the console search box and the CLI both use it.
      (fn.function.node.defaultChild as lambda.CfnFunction).functionName = deployedFunctionName(
        config.functionNamePrefix,
        dir,
      );
      fns[dir] = fn;
      new CfnOutput(this, `${pascalCase(dir)}FunctionName`, {
        value: fn.function.functionName,
        description: `kb-dr ${dir} function`,
      });
    }
    this.functions = fns;

    const permissions = restorePermissions(this, { restorePrefix, productionIds, storage });
    for (const dir of RESTORE_FUNCTION_DIRS) applyGrants(fns[dir].role, permissions[dir]);
    new ProtectedInstanceTags(this, 'ProtectedInstanceTags', { instanceIds: productionIds });
  }
}

/** The tag value each protected instance must carry, by instance id. */
export interface ProtectedInstanceTagsProps {
  /** Protected (production) instance ids, lower case. */
  readonly instanceIds: readonly string[];
}

/**
 * Puts the ${PROTECTED_INSTANCE_TAG_KEY}=<id> tag on each protected instance at deploy (and again on
 * every update), so restore-pitr's IAM fence works from the first deploy. An instance that does not
 * exist yet is skipped (DBInstanceNotFound), and PITR from it is refused until it carries the tag.
 * The custom resource may add that one tag key to those instances only; nothing is removed on delete.
 */
export class ProtectedInstanceTags extends Construct {
  constructor(scope: Construct, id: string, props: ProtectedInstanceTagsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    for (const instanceId of props.instanceIds) {
      const instanceArn = `arn:${stack.partition}:rds:${stack.region}:${stack.account}:db:${instanceId}`;
      const call: cr.AwsSdkCall = {
        service: 'RDS',
        action: 'AddTagsToResource',
        parameters: {
          ResourceName: instanceArn,
          Tags: [{ Key: PROTECTED_INSTANCE_TAG_KEY, Value: instanceId }],
        },
        physicalResourceId: cr.PhysicalResourceId.of(`${PROTECTED_INSTANCE_TAG_KEY}/${instanceId}`),
        ignoreErrorCodesMatching: 'DBInstanceNotFound.*',
      };
      new cr.AwsCustomResource(this, pascalCase(instanceId), {
        onCreate: call,
        onUpdate: call,
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({
            actions: ['rds:AddTagsToResource'],
            resources: [instanceArn],
            conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [PROTECTED_INSTANCE_TAG_KEY] } },
          }),
        ]),
        installLatestAwsSdk: false,
        logGroup: new logs.LogGroup(this, `${pascalCase(instanceId)}Logs`, {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
    }
    acknowledgeCustomResourceProvider(this);
  }
}
