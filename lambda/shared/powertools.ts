/**
 * Powertools Logger and Metrics, configured once for kb-dr, and the one metrics interface every
 * function's logic writes to (`MetricSink`): the handlers back it with Powertools (`KbMetricStore`),
 * unit tests with a recording fake, so metrics are asserted the same way for every function.
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

/** Where logic functions put catalogued metrics (name and unit from the catalog). */
export interface MetricSink {
  add(def: KbMetricDefinition, value: number): void;
}

/** Powertools Metrics as a MetricSink, with a flush that publishes only what was stored. */
export class KbMetricStore extends Metrics implements MetricSink {
  /** Add a catalogued metric with its catalogued unit. */
  add(def: KbMetricDefinition, value: number): void {
    this.addMetric(def.name, def.unit as Parameters<Metrics['addMetric']>[1], value);
  }

  /** Publish the stored metrics; nothing when none were stored (an empty flush logs a warning). */
  flushIfStored(): void {
    if (this.hasStoredMetrics()) this.publishStoredMetrics();
  }
}

/** Metrics in namespace KB with the DBInstanceIdentifier dimension and nothing else. */
export function createMetrics(serviceName: string, dbInstanceId: string): KbMetricStore {
  const metrics = new KbMetricStore({ namespace: METRIC_NAMESPACE, serviceName });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [INSTANCE_DIMENSION]: dbInstanceId });
  return metrics;
}

/** Add a catalogued metric with its catalogued unit. */
export function addKbMetric(metrics: MetricSink, def: KbMetricDefinition, value: number): void {
  metrics.add(def, value);
}
