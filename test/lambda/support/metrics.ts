/**
 * One way to assert metrics in every function's tests, whichever way the metrics are taken:
 * `recorded()` lists `[name, value]` in the order the function added them, `values(name)` one
 * metric's values.
 *
 * - `recordingSink()`: the MetricSink a test passes to a logic function;
 * - `handlerMetrics()`: what a handler flushed through Powertools, read back from the EMF it
 *   printed (what CloudWatch would receive), for handler tests and logic that takes Powertools.
 */
import type { KbMetricDefinition } from '../../../core/metrics-catalog';
import { captureEmf, enableEmf, type EmfDocument } from '../../../harness/emf';
import type { MetricSink } from '../../../lambda/shared/powertools';

export interface RecordedMetrics {
  /** Every `[name, value]` in order (an EMF array value gives one pair per element). */
  recorded(): [string, number][];
  /** The values recorded for `name`, in order. */
  values(name: string): number[];
}

function reader(pairs: () => [string, number][]): RecordedMetrics {
  return {
    recorded: pairs,
    values: (name) => pairs().flatMap(([n, v]) => (n === name ? [v] : [])),
  };
}

/** A MetricSink that keeps what it is given. */
export function recordingSink(): MetricSink & RecordedMetrics {
  const added: [string, number][] = [];
  return {
    add: (def: KbMetricDefinition, value: number) => void added.push([def.name, value]),
    ...reader(() => [...added]),
  };
}

/** The `[name, value]` pairs of EMF documents, in order. */
export function emfPairs(docs: readonly EmfDocument[]): [string, number][] {
  return docs.flatMap((doc) =>
    doc._aws.CloudWatchMetrics.flatMap((d) =>
      d.Metrics.flatMap((m) => {
        const v = doc[m.Name];
        return (Array.isArray(v) ? v : [v]).map((x): [string, number] => [m.Name, x as number]);
      }),
    ),
  );
}

export interface HandlerMetrics extends RecordedMetrics {
  /** The EMF documents themselves (dimensions, namespace, units). */
  docs(): EmfDocument[];
  clear(): void;
  /** Put console.log back (call in afterEach). */
  restore(): void;
}

/**
 * Capture the metrics Powertools flushes from now on. Turns metrics on first (POWERTOOLS_DEV
 * turns them off): create the handler or the Metrics instance after calling this.
 */
export function handlerMetrics(): HandlerMetrics {
  enableEmf();
  const emf = captureEmf();
  return { ...reader(() => emfPairs(emf.docs())), docs: emf.docs, clear: emf.clear, restore: emf.restore };
}
