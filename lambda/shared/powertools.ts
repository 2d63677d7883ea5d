/**
 * Powertools Logger and Metrics, configured once for kb-dr.
 *
 * Metrics carry exactly one dimension, DBInstanceIdentifier: Powertools adds a `service`
 * dimension by default, which would make every datapoint miss the alarms (CloudWatch matches
 * the full dimension set). `createMetrics` removes it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { INSTANCE_DIMENSION, METRIC_NAMESPACE, type KbMetricDefinition } from '../../core/metrics-catalog';

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** Metrics in namespace KB with the DBInstanceIdentifier dimension and nothing else. */
export function createMetrics(serviceName: string, dbInstanceId: string): Metrics {
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [INSTANCE_DIMENSION]: dbInstanceId });
  return metrics;
}

/** Add a catalogued metric with its catalogued unit. */
export function addKbMetric(metrics: Metrics, def: KbMetricDefinition, value: number): void {
  metrics.addMetric(def.name, def.unit as Parameters<Metrics['addMetric']>[1], value);
}
