/**
 * HARNESS STAND-IN for the verify-restore function (issue 13, built on another branch): runs the
 * Knowledge Base data checks against an emulated restored instance and writes the verification
 * record (core/verification.ts) where verify-restore writes it. The restore-test function reads
 * only that record, so the drill swaps this one call for the real verify-restore at merge.
 * Never deployed; never imports jest.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { verificationKey, type VerificationRecord } from '../core/verification';
import { verifyKbData } from '../lambda/shared/kb-data-checks';
import type { EmulatedInstance } from './rds-data-plane';

export interface StandInVerification {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly kmsKeyArn: string;
  /** The emulated instance behind the test instance (same id). */
  readonly instance: EmulatedInstance;
  readonly snapshotId: string;
  /** The counts the backup holds (what the restore must have). */
  readonly recorded: { readonly knowledge_entries: number; readonly embedding_cache: number };
  readonly now?: () => Date;
}

/** Verify the emulated instance and write its verification record; returns the record. */
export async function standInVerifyRestore(v: StandInVerification): Promise<VerificationRecord> {
  const now = v.now ?? (() => new Date());
  const startedAt = now();
  const report = await verifyKbData(
    {
      host: v.instance.host,
      port: v.instance.port,
      database: v.instance.database,
      user: v.instance.user,
      password: v.instance.password,
    },
    {
      expectedCounts: {
        knowledgeEntries: v.recorded.knowledge_entries,
        embeddingCache: v.recorded.embedding_cache,
        source: `backup ${v.snapshotId}`,
      },
    },
  );
  const f = report.figures;
  const record: VerificationRecord = {
    version: 1,
    instanceId: v.instance.id,
    outcome: report.result,
    source: { kind: 'snapshot', snapshotId: v.snapshotId },
    startedAt: startedAt.toISOString(),
    verifiedAt: now().toISOString(),
    checks: report.checks.map((c) => ({ check: c.check, status: c.status, detail: c.detail })),
    ...(f.knowledgeEntries !== undefined && f.embeddingCache !== undefined
      ? { entries: { knowledge_entries: f.knowledgeEntries, embedding_cache: f.embeddingCache } }
      : {}),
    ...(f.newestCreatedAt ? { newestCreatedAt: f.newestCreatedAt } : {}),
    recorded: { snapshotId: v.snapshotId, ...v.recorded },
    summary:
      report.result === 'PASS'
        ? `verified: ${f.knowledgeEntries ?? '?'} entries, as recorded at backup (harness stand-in for verify-restore)`
        : `verification FAILED: ${report.checks
            .filter((c) => c.status === 'FAIL')
            .map((c) => `${c.check}: ${c.detail}`)
            .join('; ')} (harness stand-in for verify-restore)`,
  };
  await v.s3.send(
    new PutObjectCommand({
      Bucket: v.bucket,
      Key: verificationKey(v.instance.id),
      Body: JSON.stringify(record, null, 2),
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: v.kmsKeyArn,
    }),
  );
  return record;
}
