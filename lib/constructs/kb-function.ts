import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcard, nagArnPrefix } from '../nag';
import { METRIC_NAMESPACE } from '../../core/metrics-catalog';
import { deployedFunctionName, serviceNameOf, type KbFunctionName } from '../../core/functions';
import { kbFunctionCode, PROJECT_ROOT } from './kb-function-code';

export { PROJECT_ROOT };

export interface KbFunctionProps {
  /**
   * Folder under `lambda/` holding the function's `index.ts` (which exports `handler`),
   * e.g. `backup` for `lambda/backup/index.ts`.
   */
  readonly functionDir: string;
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /** Log group the function writes to (e.g. `/aws/knowledgebase/backup`). */
  readonly logGroup: logs.ILogGroup;
  /**
   * Deploy the function as `<prefix>-<functionDir>` (core/functions.ts deployedFunctionName), so
   * the CLI and the runbook name it without a stack lookup.
   * @default a name CloudFormation generates
   */
  readonly functionNamePrefix?: string;
  /** Powertools service name. @default `kb-${functionDir}` */
  readonly serviceName?: string;
  /** Extra environment variables (configuration names come from `lambda/shared/env.ts`). @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
}

/**
 * The one Lambda construct every kb-dr function uses: a bundle built by the local esbuild
 * (kb-function-code.ts: one build for every function; minified, tree-shaken, a source map built but
 * not enabled at runtime; the AWS SDK bundled from its ES builds so its version is the lockfile's
 * and only the commands a function uses are in it),
 * the latest Node.js runtime on ARM64, Powertools settings, its log group, and a role that may
 * write only to that log group. Callers grant everything else explicitly.
 */
export class KbFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: KbFunctionProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]*$/.test(props.functionDir)) {
      throw new Error(
        `KbFunction ${id}: functionDir "${props.functionDir}" must be a kebab-case folder under lambda/, e.g. "backup"`,
      );
    }
    const timeout = props.timeout ?? Duration.minutes(1);
    if (timeout.toSeconds() > 900) {
      throw new Error(`KbFunction ${id}: timeout ${timeout.toSeconds()} s exceeds Lambda's 900 s maximum`);
    }

    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy may write to
    // every log group in the account; this one writes to its own log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `kb-dr ${props.functionDir} function`,
    });
    // The ARN is built from the log group's name rather than imported from the storage stack, so
    // the finding below has a stable id and this stack does not depend on an export for it.
    const logStreams = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${props.logGroup.logGroupName}:log-stream:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logStreams],
      }),
    );
    acknowledgeWildcard(
      this.role,
      { resource: `${nagArnPrefix(this, 'logs')}log-group:${props.logGroup.logGroupName}:log-stream:*` },
      "Lambda creates one log stream per execution environment with a generated name; the wildcard covers only streams of this function's own log group",
    );

    const serviceName = props.serviceName ?? serviceNameOf(props.functionDir);
    this.function = new lambda.Function(this, 'Function', {
      code: kbFunctionCode(props.functionDir),
      handler: 'index.handler',
      ...(props.functionNamePrefix !== undefined
        ? {
            functionName: deployedFunctionName(props.functionNamePrefix, props.functionDir as KbFunctionName),
          }
        : {}),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      timeout,
      memorySize: props.memorySize ?? 256,
      role: this.role,
      logGroup: props.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // No NODE_OPTIONS=--enable-source-maps: Node then parses the source map at load and maps
        // every stack it formats: measured on the backup bundle (SDK from its ES builds) +28% CPU at
        // require, and 533 against 249 ms CPU for a process that loads it and answers an invalid
        // event (bench/function-cold-load.ts). The map still ships in the asset, to decode a logged
        // stack offline.
        ...props.environment,
      },
    });
  }
}
