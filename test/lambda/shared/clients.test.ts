import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRdsClient } from '../../../lambda/shared/clients';
import { classifyFault } from '../../../lambda/shared/fault-class';

describe('production SDK clients', () => {
  let server: Server;
  let requests = 0;
  const saved = { ...process.env };

  beforeAll(async () => {
    // Accepts every request and never answers: a hung connection.
    server = createServer(() => {
      requests += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
  });

  afterAll(async () => {
    process.env = saved;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('ends a hung attempt in a transient TimeoutError and retries it, instead of waiting for the Lambda timeout', async () => {
    // Prepare
    requests = 0;
    const rds = createRdsClient({ requestTimeoutMs: 150 });

    // Act
    const err: unknown = await rds.send(new DescribeDBInstancesCommand({})).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(err).toBeDefined();
    expect((err as Error).name).toBe('TimeoutError');
    expect(classifyFault(err)).toBe('transient');
    expect(requests).toBe(5);
    rds.destroy();
  });
});
