/**
 * Invoking the deployed kb-dr functions from the operator CLI. Every RDS action goes through the
 * functions (never straight to RDS), so it is logged in CloudWatch under the function's role and
 * passes the same guard rails as a console invocation.
 */
import {
  DEFAULT_FUNCTION_PREFIX,
  deployedFunctionName,
  type RestoreFunction,
  type VerifyFunction,
} from '../../core/functions';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { AccessDeniedError, awsErrorCode, ConfigurationError, KbDrError } from '../../core/errors';
import { translateAwsError } from '../../lambda/shared/aws-errors';
import { exitCodeFor, isFailure, type FailureResponse } from '../../lambda/shared/handler-response';

/** The functions the CLI invokes: the backup function, the five restore functions and verify-restore. */
export type RdsFunction = 'backup' | RestoreFunction | VerifyFunction;

/** Calls one function with one event and returns its decoded response. */
export type Invoker = (fn: RdsFunction, event: Readonly<Record<string, unknown>>) => Promise<unknown>;

/** Environment variables naming the deployed functions. */
export const CLI_RDS_ENV = {
  /** Prefix of the functions' names (`<prefix>-backup`, `<prefix>-restore-snapshot`, ...). */
  functionPrefix: 'KB_FUNCTION_PREFIX',
  /** Overrides the backup function's name (deployments made before it had `<prefix>-backup`). */
  backupFunctionName: 'KB_BACKUP_FUNCTION_NAME',
} as const;

/** The deployed name of `fn`: `<prefix>-<name>` (core/functions.ts), or the backup override. */
export function functionNameFor(fn: RdsFunction, env: Readonly<Record<string, string | undefined>>): string {
  const override = fn === 'backup' ? env[CLI_RDS_ENV.backupFunctionName]?.trim() : undefined;
  if (override) return override;
  const prefix = env[CLI_RDS_ENV.functionPrefix]?.trim() || DEFAULT_FUNCTION_PREFIX;
  return deployedFunctionName(prefix, fn);
}

/** A function answered `ok: false` (or failed outright); carries what it said and the exit code. */
export class RemoteFailureError extends KbDrError {
  override readonly name = 'RemoteFailureError';
  constructor(
    readonly functionName: string,
    readonly failure: FailureResponse,
  ) {
    super(failure.error, { hint: failure.hint, retryable: failure.retryable });
  }

  /** 2 when the request was refused and nothing changed, 1 otherwise (the one mapping: exitCodeFor). */
  get exitCode(): number {
    return exitCodeFor(this.failure);
  }
}

/** Throw RemoteFailureError when a response is `ok: false`; return it otherwise. */
export function expectOk<T>(fn: RdsFunction, res: unknown): T {
  if (isFailure(res)) throw new RemoteFailureError(fn, res);
  return res as T;
}

/**
 * A failed Invoke, translated for the operator: the function was never reached, so the fault is
 * in the operator's own identity or shell, not in the function's role or logs.
 */
export function invokeError(err: unknown, name: string): KbDrError {
  const code = awsErrorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (/AccessDenied|NotAuthorized|UnrecognizedClient|InvalidSignature|ExpiredToken/.test(code)) {
    return new AccessDeniedError(`invoke ${name} was refused: ${code}: ${message}`, {
      cause: err,
      hint: `your AWS identity needs lambda:InvokeFunction on ${name} (runbook: Prerequisites); nothing was changed`,
    });
  }
  if (code === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new ConfigurationError(`no AWS credentials to invoke ${name}: ${message}`, {
      cause: err,
      hint: 'sign in (e.g. `aws sso login`) or set AWS_PROFILE, then retry; nothing was changed',
    });
  }
  if (/region is missing/i.test(message)) {
    return new ConfigurationError(`no AWS region to invoke ${name}`, {
      cause: err,
      hint: 'set AWS_REGION to the region kb-dr is deployed in, e.g. AWS_REGION=eu-west-1; nothing was changed',
    });
  }
  return translateAwsError(err, {
    operation: `invoke ${name}`,
    notFoundHint: `deploy the stacks (\`cdk deploy --all\`) or set ${CLI_RDS_ENV.functionPrefix} to the prefix you deployed with`,
  });
}

/** An Invoker backed by Lambda Invoke (RequestResponse). */
export function lambdaInvoker(
  client: LambdaClient,
  env: Readonly<Record<string, string | undefined>>,
): Invoker {
  return async (fn, event) => {
    const name = functionNameFor(fn, env);
    let res;
    try {
      res = await client.send(
        new InvokeCommand({
          FunctionName: name,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      );
    } catch (err) {
      throw invokeError(err, name);
    }
    const text = res.Payload ? new TextDecoder().decode(res.Payload) : 'null';
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
    if (res.FunctionError) {
      const message =
        typeof payload === 'object' && payload !== null && 'errorMessage' in payload
          ? String((payload as { errorMessage: unknown }).errorMessage)
          : text;
      throw new RemoteFailureError(fn, {
        ok: false,
        error: `${name} failed: ${message}`,
        hint: `read its logs: aws logs tail /aws/knowledgebase/restore --since 15m (or the backup log group); a configuration error means the stack needs redeploying`,
        errorType: 'FunctionError',
        retryable: false,
      });
    }
    return payload;
  };
}
