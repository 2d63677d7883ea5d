/**
 * Capture the CloudWatch EMF documents Powertools Metrics prints, as the Lambda runtime would
 * ship them to CloudWatch Logs. Powertools disables metrics under POWERTOOLS_DEV unless
 * POWERTOOLS_METRICS_DISABLED=false, so call `enableEmf()` before creating a Metrics instance.
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
  restore(): void;
}

function parseLine(args: unknown[]): EmfDocument | undefined {
  if (args.length !== 1 || typeof args[0] !== 'string') return undefined;
  try {
    const parsed = JSON.parse(args[0]) as Partial<EmfDocument>;
    return parsed && typeof parsed === 'object' && parsed._aws ? (parsed as EmfDocument) : undefined;
  } catch {
    return undefined;
  }
}

/** Spy on console.log and keep the EMF documents; other output passes through untouched. */
export function captureEmf(): EmfCapture {
  const original = console.log.bind(console);
  let docs: EmfDocument[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    const doc = parseLine(args);
    if (doc) docs.push(doc);
    else original(...args);
  });
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
    restore: () => spy.mockRestore(),
  };
}
