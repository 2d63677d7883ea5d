/**
 * Reconcile function: target of the 15-minute schedule (periodic pass) and of the EventBridge
 * rules for RDS snapshot/export events (advance that one snapshot now). Any input that is not an
 * RDS event runs a pass, so on-call can invoke it from the console with `{}`.
 */
import { pipelineHandler } from '../shared/handler';
import { parseReconcileInput, RetryableStepsFailed, runReconcile } from './run';

export type { ReconcileResponse } from './run';

export const handler = pipelineHandler('reconcile', {
  parse: (event) => parseReconcileInput(event),
  run: (input, deps, config) => runReconcile(deps, config, input),
  // Each retryable failure is already logged on its own line.
  logError: (err) => !(err instanceof RetryableStepsFailed),
});
