/**
 * Backup function: target of the nightly schedule (payload
 * `{"source": "kb-dr.schedule", "time": "<scheduled time>"}`) and of on-demand requests
 * (`{"reason": "..."}`). Any other event (a misspelled field, `null`) is refused before any AWS
 * call. Requests tonight's snapshot and returns; the RDS events and the reconcile function take it
 * from there. A transient fault fails the invocation (so it is retried) and records nothing.
 */
import { emitOutcome } from '../shared/backup-pipeline';
import { pipelineHandler } from '../shared/handler';
import { parseBackupRequest, ScheduleRefusedError, startBackup } from './start-backup';

export const handler = pipelineHandler('backup', {
  parse: (event, deps) => parseBackupRequest(event, deps.now()),
  // A refused schedule is a missed night: page for it. Any other refusal emits nothing.
  onRefused: (err, deps) => {
    if (err instanceof ScheduleRefusedError) emitOutcome(deps.metrics, false);
  },
  run: (request, deps, config) => startBackup(deps, config, request),
  // startBackup logs its own failures (one line: stage, AWS error, fix) before rethrowing.
  logError: () => false,
});
