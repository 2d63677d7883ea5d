/**
 * Reconcile function: target of the 15-minute schedule (periodic pass) and of the EventBridge
 * rules for RDS snapshot/export events (advance that one snapshot now). On-call runs a pass from
 * the console with `{}`; any other event is refused before any AWS call (./contract.ts).
 */
import { pipelineHandler } from '../shared/handler';
import { parseReconcileInput, RetryableStepsFailed, runReconcile } from './run';

export type { ReconcileResponse } from './contract';

export const handler = pipelineHandler('reconcile', {
  parse: (event) => parseReconcileInput(event),
  run: (input, deps, config) => runReconcile(deps, config, input),
  // Each retryable failure is already logged on its own line.
  logError: (err) => !(err instanceof RetryableStepsFailed),
});
