import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { INSTANCE_DIMENSION, METRIC_NAMESPACE, type KbMetricDefinition } from '../../core/metrics-catalog';

export interface KbMetricOptions {
  /** @default 'Sum' */
  readonly statistic?: string;
  /** @default Duration.hours(1) */
  readonly period?: Duration;
  readonly label?: string;
}

/**
 * A CloudWatch metric exactly as the functions emit it: namespace KB, the catalogued name, and
 * the single DBInstanceIdentifier dimension. Unit is deliberately not set: CloudWatch filters
 * datapoints by unit when one is given, so a unit mismatch would leave an alarm watching nothing.
 */
export function kbMetric(
  def: KbMetricDefinition,
  dbInstanceId: string,
  options: KbMetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: def.name,
    dimensionsMap: { [INSTANCE_DIMENSION]: dbInstanceId },
    statistic: options.statistic ?? 'Sum',
    period: options.period ?? Duration.hours(1),
    label: options.label,
  });
}
