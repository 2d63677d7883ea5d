import * as path from 'node:path';
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcard, nagArnPrefix } from '../nag';
import { METRIC_NAMESPACE } from '../../core/metrics-catalog';
import { deployedFunctionName, serviceNameOf, type KbFunctionName } from '../../core/functions';
import {
  KB_FUNCTION_MAIN_FIELDS,
  KB_FUNCTION_SUPPORTED,
  sidePackageEsbuildArgs,
  sidePackagesOf,
} from './kb-function-bundling';

/** Repository root: lambda entries and the lock file are resolved from here. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
/** The project's esbuild (the one NodejsFunction bundles with), for the side packages' files. */
const ESBUILD_BIN = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'esbuild');

/** `s` as one POSIX shell word. */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

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
 * The one Lambda construct every kb-dr function uses: NodejsFunction bundled by the local esbuild
 * (minified, tree-shaken, a source map built but not enabled at runtime; the AWS SDK bundled from its ES
 * builds so its version is the lockfile's and only the commands a function uses are in it),
 * the latest Node.js runtime on ARM64, Powertools settings, its log group, and a role that may
 * write only to that log group. Callers grant everything else explicitly.
 */
export class KbFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
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
    const sidePackages = sidePackagesOf(props.functionDir);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, 'lambda', props.functionDir, 'index.ts'),
      handler: 'handler',
      ...(props.functionNamePrefix !== undefined
        ? {
            functionName: deployedFunctionName(props.functionNamePrefix, props.functionDir as KbFunctionName),
          }
        : {}),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
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
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the SDK: the function runs the versions the lockfile pins and tests exercised. The
        // packages it loads only on some paths are bundled too, each to its own file in the asset
        // (kb-function-bundling.ts sidePackagesOf), so a cold start does not parse them.
        externalModules: [...sidePackages],
        ...(sidePackages.length > 0
          ? {
              // A side package's `import()` compiled to `require()` (kb-function-bundling.ts KB_FUNCTION_SUPPORTED).
              esbuildArgs: Object.fromEntries(
                Object.entries(KB_FUNCTION_SUPPORTED).map(([feature, on]) => [
                  `--supported:${feature}`,
                  String(on),
                ]),
              ),
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) =>
                  sidePackages.map((pkg) =>
                    [
                      `cd ${shellQuote(inputDir)} &&`,
                      shellQuote(ESBUILD_BIN),
                      ...sidePackageEsbuildArgs(pkg, outputDir).map(shellQuote),
                    ].join(' '),
                  ),
              },
            }
          : {}),
        // The SDK's ES builds, tree-shaken to what the function uses (kb-function-bundling.ts).
        mainFields: [...KB_FUNCTION_MAIN_FIELDS],
        forceDockerBundling: false,
        format: nodejs.OutputFormat.CJS,
        logLevel: nodejs.LogLevel.ERROR,
      },
    });
  }
}
