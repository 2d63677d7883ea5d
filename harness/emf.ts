/**
 * The one EMF capture: the CloudWatch EMF documents Powertools Metrics prints through console.log,
 * kept as the Lambda runtime would ship them to CloudWatch Logs. Used by the unit and contract
 * tests and by the drill. Powertools disables metrics under POWERTOOLS_DEV unless
 * POWERTOOLS_METRICS_DISABLED=false, so call `enableEmf()` before creating a Metrics instance.
 * Never imports jest.
 */

export interface EmfMetricDirective {
  readonly Namespace: string;
  readonly Dimensions: string[][];
  readonly Metrics: { readonly Name: string; readonly Unit?: string }[];
}

export interface EmfDocument {
  readonly _aws: { readonly Timestamp: number; readonly CloudWatchMetrics: EmfMetricDirective[] };
  readonly [key: string]: unknown;
}

export function enableEmf(): void {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
}

export interface EmfCapture {
  /** Every EMF document printed since capture started. */
  docs(): EmfDocument[];
  /** All values printed for metric `name`, in order (array values flattened). */
  values(name: string): number[];
  clear(): void;
  /** Put console.log back. */
  restore(): void;
}

/** The EMF document one console.log call printed, or undefined when it printed something else. */
export function parseEmfLine(args: readonly unknown[]): EmfDocument | undefined {
  if (args.length !== 1 || typeof args[0] !== 'string') return undefined;
  try {
    const parsed = JSON.parse(args[0]) as Partial<EmfDocument>;
    return parsed && typeof parsed === 'object' && parsed._aws ? (parsed as EmfDocument) : undefined;
  } catch {
    return undefined;
  }
}

/** Replace console.log and keep the EMF documents; other output passes through untouched. */
export function captureEmf(): EmfCapture {
  const original = console.log;
  let docs: EmfDocument[] = [];
  console.log = (...args: unknown[]) => {
    const doc = parseEmfLine(args);
    if (doc) docs.push(doc);
    else original(...args);
  };
  return {
    docs: () => [...docs],
    values: (name) =>
      docs.flatMap((d) => {
        const v = d[name];
        if (v === undefined) return [];
        return (Array.isArray(v) ? v : [v]) as number[];
      }),
    clear: () => {
      docs = [];
    },
    restore: () => {
      console.log = original;
    },
  };
}

/** `Namespace/Name=value Unit` for every metric in EMF documents, in order. */
export function metricLines(emf: readonly EmfDocument[]): string[] {
  return emf.flatMap((doc) =>
    doc._aws.CloudWatchMetrics.flatMap((d) =>
      d.Metrics.map(
        (m) => `${d.Namespace}/${m.Name}=${JSON.stringify(doc[m.Name])}${m.Unit ? ` ${m.Unit}` : ''}`,
      ),
    ),
  );
}
