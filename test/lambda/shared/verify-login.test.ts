import { iamLogin } from '../../../lambda/shared/verify-login';

describe('iamLogin', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('signs an IAM authentication token for the endpoint and user, locally (the signer loads on first use)', async () => {
    // Prepare: static credentials; signing makes no AWS call.
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'us-east-1',
    });

    // Act
    const login = await iamLogin('kb_verify')({
      address: 'kb-restore-drill-1.abc.us-east-1.rds.amazonaws.com',
      port: 5432,
    });
    const token = typeof login.password === 'function' ? await login.password() : login.password;

    // Assess
    expect(login.user).toBe('kb_verify');
    expect(token).toMatch(
      /^kb-restore-drill-1\.abc\.us-east-1\.rds\.amazonaws\.com:5432\/\?Action=connect&DBUser=kb_verify&/,
    );
    expect(token).toContain('X-Amz-Credential=AKIAEXAMPLEKEY%2F');
    expect(token).toContain('X-Amz-Signature=');
  });
});
