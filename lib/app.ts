import { App, Tags, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig, type KbDrConfig } from './config';
import { OperationsStack } from './stacks/operations-stack';
import { LOG_GROUP_NAMES, StorageStack } from './stacks/storage-stack';

export interface KbDrApp {
  readonly app: App;
  readonly config: KbDrConfig;
  readonly storage: StorageStack;
  readonly operations: OperationsStack;
}

export interface BuildAppOptions {
  /** The CDK app to build into. @default a new App (context from cdk.json via the CLI) */
  readonly app?: App;
  /** Environment variables the configuration reads. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Account/region to deploy to. @default the CLI's (CDK_DEFAULT_ACCOUNT/REGION), if any */
  readonly stackEnv?: Environment;
}

/**
 * Build the kb-dr app: configuration, both stacks, tags and cdk-nag's AwsSolutions checks. Used by
 * bin/app.ts and by tests, so no deploy and no test can skip the checks.
 */
export function buildApp(options: BuildAppOptions = {}): KbDrApp {
  const app = options.app ?? new App();
  const env = options.env ?? process.env;
  const config = loadConfig(
    (key) => app.node.tryGetContext(key),
    env,
    Object.keys(app.node.getAllContext() as Record<string, unknown>),
  );
  const stackEnv = options.stackEnv ?? {
    account: env.CDK_DEFAULT_ACCOUNT,
    region: env.CDK_DEFAULT_REGION,
  };

  const storage = new StorageStack(app, 'KbDrStorage', {
    env: stackEnv,
    description:
      'kb-dr stateful resources: backup key and bucket, export role, log groups (retained on delete)',
    retentionDays: config.backupRetentionDays,
  });
  const operations = new OperationsStack(app, 'KbDrOperations', {
    env: stackEnv,
    description: 'kb-dr operations: backup and restore functions, schedules, alarms, dashboard',
    config,
    storage: {
      backupBucket: storage.backupBucket,
      backupKey: storage.backupKey,
      exportRole: storage.exportRole,
    },
    logGroupNames: LOG_GROUP_NAMES,
    notificationKey: storage.notificationKey,
  });
  // Log groups are referenced by name, not by export: deploy storage first.
  operations.addStackDependency(storage);

  // CloudFormation's schema for dashboards (as cfn-lint knows it) has no Tags; leave them untagged.
  const tagOptions = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
  Tags.of(app).add('project', 'kb-dr', tagOptions);
  Tags.of(app).add('kb-dr:protected-instance', config.dbInstanceId, tagOptions);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, config, storage, operations };
}
