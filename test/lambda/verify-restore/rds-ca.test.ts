import { X509Certificate } from 'node:crypto';
import { loadRdsCaBundle } from '../../../lambda/verify-restore/rds-ca';

describe('loadRdsCaBundle', () => {
  it('loads the RDS certificate authorities (PEM certificates Node parses, Amazon RDS roots among them)', async () => {
    const ca = await loadRdsCaBundle();
    expect(ca.length).toBeGreaterThan(10);
    const subjects = ca.map((pem) => new X509Certificate(pem).subject);
    expect(subjects.some((s) => /Amazon RDS/.test(s))).toBe(true);
  });
});
