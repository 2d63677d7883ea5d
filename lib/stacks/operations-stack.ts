import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { KbDrConfig } from '../config';
import { BackupAlarms } from '../constructs/backup-alarms';
import { BackupDashboard } from '../constructs/backup-dashboard';
import { BackupPipeline } from '../constructs/backup-pipeline';
import { ConsoleTestEvents, loadConsoleEvents } from '../constructs/console-test-events';
import { RESTORE_FUNCTION_DIRS, RestoreFunctions } from '../constructs/restore-functions';
import { RestoreTest } from '../constructs/restore-test';
import { RestoreVerification } from '../constructs/restore-verification';
import type { StorageResources } from '../constructs/storage-resources';
import { WeeklyValidation } from '../constructs/weekly-validation';

export interface OperationsStackProps extends StackProps {
  readonly config: KbDrConfig;
  /** Stateful resources from the storage stack (log groups are found by name, see `logGroupNames`). */
  readonly storage: Omit<StorageResources, 'backupLogGroup' | 'restoreLogGroup'>;
  /** Names of the log groups the storage stack owns. */
  readonly logGroupNames: { readonly backup: string; readonly restore: string };
  /** Key encrypting the on-call topic; its policy must let CloudWatch alarms use it. */
  readonly notificationKey: kms.IKey;
}

/**
 * Stateless operations: functions, schedules, event rules, the on-call topic, alarms and the
 * dashboard. Safe to destroy and redeploy; nothing here holds data.
 */
export class OperationsStack extends Stack {
  readonly topic: sns.Topic;
  readonly backup: BackupPipeline;
  readonly restore: RestoreFunctions;
  readonly weeklyValidation: WeeklyValidation;
  /** The console test events (undefined when `shareableTestEvents` is off). */
  readonly testEvents?: ConsoleTestEvents;
  readonly verification: RestoreVerification;
  readonly alarms: BackupAlarms;
  readonly dashboard: BackupDashboard;
  readonly restoreTest: RestoreTest;

  constructor(scope: Construct, id: string, props: OperationsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const consoleEvents = loadConsoleEvents();
    // Log groups by literal name: IAM statements get stable ARNs and no cross-stack export is needed.
    const storage: StorageResources = {
      ...props.storage,
      backupLogGroup: logs.LogGroup.fromLogGroupName(this, 'BackupLogGroup', props.logGroupNames.backup),
      restoreLogGroup: logs.LogGroup.fromLogGroupName(this, 'RestoreLogGroup', props.logGroupNames.restore),
    };

    this.topic = new sns.Topic(this, 'OnCallTopic', {
      displayName: 'kb-dr on-call: Knowledge Base backup alarms',
      masterKey: props.notificationKey,
      enforceSSL: true,
    });
    // The TLS-only statement gives the topic a resource policy; say explicitly that CloudWatch
    // alarms of this account may publish (and nothing else is opened).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    for (const email of config.alarmEmails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    this.backup = new BackupPipeline(this, 'BackupPipeline', { config, storage });
    this.restore = new RestoreFunctions(this, 'RestoreFunctions', { config, storage });
    // The weekly validation and the test events were built by RestoreFunctions before they became
    // constructs of their own: they live in its scope so deployed resources keep their logical ids
    // (a test-event schema with a new id would collide with its own fixed name on deploy).
    this.weeklyValidation = new WeeklyValidation(this.restore, 'WeeklyValidation', {
      validateBackup: this.restore.functions['validate-backup'].function,
      dbInstanceId: config.dbInstanceId,
      scheduleExpression: config.validationScheduleExpression,
      timeZone: config.backupTimezone,
      // Only one child of a scope can be `Default` (left out of logical ids): the schedule is, so
      // the role beside it keeps its old ids by pinning.
      pinnedLogicalIds: {
        role: 'RestoreFunctionsValidationSchedulerRole895A99E9',
        rolePolicy: 'RestoreFunctionsValidationSchedulerRoleDefaultPolicy0CDD06B2',
      },
    });
    if (config.shareableTestEvents) {
      // `Default`: its registry call and schemas keep the ids they had directly under RestoreFunctions.
      this.testEvents = new ConsoleTestEvents(this.restore, 'Default', {
        functionNamePrefix: config.functionNamePrefix,
        functions: RESTORE_FUNCTION_DIRS,
        events: consoleEvents,
      });
    }
    this.alarms = new BackupAlarms(this, 'Alarms', {
      dbInstanceId: config.dbInstanceId,
      topic: this.topic,
      maxEntryCountDropFraction: config.entryCountDropFraction,
    });
    this.verification = new RestoreVerification(this, 'RestoreVerification', {
      config,
      storage,
      restoreStatus: this.restore.functions['restore-status'],
      testEvents: consoleEvents['verify-restore'] ?? {},
      ...(this.testEvents ? { testEventRegistry: this.testEvents.registry } : {}),
    });
    this.dashboard = new BackupDashboard(this, 'Dashboard', {
      dbInstanceId: config.dbInstanceId,
      alarms: this.alarms,
    });
    this.restoreTest = new RestoreTest(this, 'RestoreTest', { config, storage, topic: this.topic });
    this.restoreTest.addDashboardWidgets(this.dashboard.dashboard, config.dbInstanceId);

    new CfnOutput(this, 'OnCallTopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'BackupFunctionName', { value: this.backup.backupFunction.function.functionName });
    new CfnOutput(this, 'ReconcileFunctionName', {
      value: this.backup.reconcileFunction.function.functionName,
      description: 'invoke with {} to run the periodic pass now (finish exports, record outcomes)',
    });
    new CfnOutput(this, 'DashboardUrl', { value: this.dashboard.url });
  }
}
