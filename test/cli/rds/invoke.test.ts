import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { RemoteFailureError, expectOk, functionNameFor, lambdaInvoker } from '../../../cli/rds/invoke';

const lambdaMock = mockClient(LambdaClient);
const client = new LambdaClient({ region: 'us-east-1' });
const payload = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)) as never;

describe('lambdaInvoker', () => {
  beforeEach(() => lambdaMock.reset());

  it('invokes <prefix>-<function> synchronously with the event and decodes the answer', async () => {
    lambdaMock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: payload({ ok: true, state: 'available' }) });
    const invoke = lambdaInvoker(client, { KB_FUNCTION_PREFIX: 'kb-dr-staging' });
    const res = await invoke('restore-status', { targetInstanceId: 'kb-restore-1' });
    expect(res).toEqual({ ok: true, state: 'available' });
    const input = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('kb-dr-staging-restore-status');
    expect(input?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      targetInstanceId: 'kb-restore-1',
    });
  });

  it('turns a function error (e.g. a broken deployment) into a RemoteFailureError with exit code 1', async () => {
    lambdaMock.on(InvokeCommand).resolves({
      FunctionError: 'Unhandled',
      Payload: payload({ errorMessage: 'KB_DB_INSTANCE_ID is not set' }),
    });
    const err = (await lambdaInvoker(client, {})('restore-status', {}).catch(
      (e: unknown) => e,
    )) as RemoteFailureError;
    expect(err).toBeInstanceOf(RemoteFailureError);
    expect(err.message).toBe('kb-dr-restore-status failed: KB_DB_INSTANCE_ID is not set');
    expect(err.exitCode).toBe(1);
  });

  it.each([
    [
      'the operator may not invoke it',
      Object.assign(new Error('User is not authorized to perform: lambda:InvokeFunction'), {
        name: 'AccessDeniedException',
      }),
      /^invoke kb-dr-restore-status was refused: AccessDeniedException/,
      /your AWS identity needs lambda:InvokeFunction on kb-dr-restore-status/,
    ],
    [
      'the shell has no credentials',
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      /^no AWS credentials to invoke kb-dr-restore-status/,
      /aws sso login/,
    ],
    [
      'the shell has no region',
      new Error('Region is missing'),
      /^no AWS region to invoke kb-dr-restore-status/,
      /set AWS_REGION/,
    ],
  ])('blames the operator side, not the function, when %s', async (_case, fault, message, hint) => {
    // Prepare
    lambdaMock.on(InvokeCommand).rejects(fault);
    // Act
    const err = (await lambdaInvoker(client, {})('restore-status', {}).catch((e: unknown) => e)) as {
      message: string;
      hint?: string;
    };
    // Assess
    expect(err.message).toMatch(message);
    expect(err.hint).toMatch(hint);
    expect(err.hint).not.toMatch(/function logs|function's IAM role/);
  });

  it('says how to deploy when the function does not exist', async () => {
    lambdaMock
      .on(InvokeCommand)
      .rejects(new ResourceNotFoundException({ message: 'Function not found', $metadata: {} }));
    await expect(
      lambdaInvoker(client, {})('validate-backup', { snapshotId: 'latest' }),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      hint: expect.stringContaining('cdk deploy --all'),
    });
  });

  it('names the backup function <prefix>-backup like every function, KB_BACKUP_FUNCTION_NAME overriding it', () => {
    expect(functionNameFor('backup', {})).toBe('kb-dr-backup');
    expect(functionNameFor('backup', { KB_FUNCTION_PREFIX: 'kb-dr-staging' })).toBe('kb-dr-staging-backup');
    expect(functionNameFor('backup', { KB_BACKUP_FUNCTION_NAME: 'KbDrOperations-Backup-abc' })).toBe(
      'KbDrOperations-Backup-abc',
    );
    expect(functionNameFor('restore-pitr', { KB_BACKUP_FUNCTION_NAME: 'x' })).toBe('kb-dr-restore-pitr');
  });

  it('maps a refused request to exit code 2', () => {
    const refused = {
      ok: false,
      error: 'x',
      hint: 'y',
      errorType: 'GuardRailError',
      retryable: false,
      nothingChanged: true,
    };
    expect(() => expectOk('restore-snapshot', refused)).toThrow(RemoteFailureError);
    try {
      expectOk('restore-snapshot', refused);
    } catch (e) {
      expect((e as RemoteFailureError).exitCode).toBe(2);
    }
  });
});
