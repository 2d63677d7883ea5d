/**
 * The end of `restore --rds` / `--pitr`: run verify-restore on the restored instance (or read the
 * result it already stored when the RDS event ran it first) and print its lines. A FAIL makes the
 * command exit non-zero; "not configured" and "could not run" are said as such, never as a pass.
 */
import type { VerifyRestoreResult } from '../../lambda/verify-restore/contract';
import { KbDrError } from '../../core/errors';
import { expectOk, type Invoker } from './invoke';

export interface VerificationOutcome {
  /** Lines to print, the summary first, then one line per check. */
  readonly lines: readonly string[];
  /** True only when the data checks ran and failed. */
  readonly failed: boolean;
}

/** Verify `targetInstanceId` through the deployed verify-restore function. */
export async function verifyRestored(
  invoke: Invoker,
  targetInstanceId: string,
): Promise<VerificationOutcome> {
  let res: VerifyRestoreResult;
  try {
    res = expectOk<VerifyRestoreResult>(
      'verify-restore',
      await invoke('verify-restore', { targetInstanceId }),
    );
  } catch (err) {
    const why = err instanceof KbDrError ? err.message : (err as Error).message;
    return {
      lines: [
        `verification: not verified: verify-restore could not run (${why}); run it from the console with {"targetInstanceId": "${targetInstanceId}"}`,
      ],
      failed: false,
    };
  }
  if (typeof res.summary !== 'string' || !Array.isArray(res.report))
    return {
      lines: [
        `verification: not verified: verify-restore answered without a result (${JSON.stringify(res).slice(0, 200)})`,
      ],
      failed: false,
    };
  return {
    lines: [`verification: ${res.summary}`, ...res.report.map((l) => `  ${l}`)],
    failed: res.outcome === 'FAIL',
  };
}
