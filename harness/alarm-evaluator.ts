/**
 * A small model of CloudWatch alarm evaluation, applied to alarm definitions taken from a
 * synthesized template, so tests (and the DR drill) can check what an alarm does over a scenario
 * time series without an AWS account (moto never evaluates alarms).
 *
 * What it implements, from the CloudWatch documentation:
 * - datapoints are aggregated per Period with the alarm's Statistic;
 * - at each evaluation the last EvaluationPeriods complete periods are considered, and the alarm
 *   is ALARM when at least DatapointsToAlarm of them breach the threshold, OK otherwise;
 * - TreatMissingData: `breaching` / `notBreaching` count an empty period as breaching / not;
 *   `missing` and `ignore` leave it out; when every period is empty, `missing` gives
 *   INSUFFICIENT_DATA and `ignore` keeps the current state;
 * - composite alarms evaluate their AlarmRule (ALARM(), OK(), INSUFFICIENT_DATA(), AND, OR,
 *   NOT, TRUE, FALSE, parentheses) over the children's states.
 * Simplifications: evaluation happens at period boundaries (CloudWatch evaluates every minute,
 * which changes when a state is reached by less than one period), and partially-missing windows
 * with `missing` do not look back further in time.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type Statistic = 'Maximum' | 'Minimum' | 'Sum' | 'Average' | 'SampleCount';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

export interface MetricAlarmDefinition {
  readonly kind: 'metric';
  readonly logicalId: string;
  readonly name: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly unit?: string;
  readonly statistic: Statistic;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparisonOperator: string;
  readonly treatMissingData: TreatMissingData;
}

export interface CompositeAlarmDefinition {
  readonly kind: 'composite';
  readonly logicalId: string;
  readonly name: string;
  /** The rule with alarm ARNs replaced by the children's logical ids. */
  readonly rule: string;
}

export interface Datapoint {
  /** Epoch milliseconds. */
  readonly t: number;
  readonly value: number;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** The metric and composite alarms of a synthesized template (`Template.toJSON()`). */
export function alarmsFromTemplate(template: {
  Resources?: Record<string, CfnResource>;
}): Map<string, MetricAlarmDefinition | CompositeAlarmDefinition> {
  const out = new Map<string, MetricAlarmDefinition | CompositeAlarmDefinition>();
  for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::CloudWatch::Alarm') {
      if (p.Metrics) throw new Error(`alarm ${logicalId}: metric math is not modelled`);
      const dims = (p.Dimensions as { Name: string; Value: string }[] | undefined) ?? [];
      const datapoints = Number(p.EvaluationPeriods);
      out.set(logicalId, {
        kind: 'metric',
        logicalId,
        name: String(p.AlarmName ?? logicalId),
        namespace: String(p.Namespace),
        metricName: String(p.MetricName),
        dimensions: Object.fromEntries(dims.map((d) => [d.Name, String(d.Value)])),
        ...(p.Unit ? { unit: String(p.Unit) } : {}),
        statistic: String(p.Statistic) as Statistic,
        periodSeconds: Number(p.Period),
        evaluationPeriods: datapoints,
        datapointsToAlarm: p.DatapointsToAlarm === undefined ? datapoints : Number(p.DatapointsToAlarm),
        threshold: Number(p.Threshold),
        comparisonOperator: String(p.ComparisonOperator),
        treatMissingData: (p.TreatMissingData as TreatMissingData | undefined) ?? 'missing',
      });
    } else if (r.Type === 'AWS::CloudWatch::CompositeAlarm') {
      out.set(logicalId, {
        kind: 'composite',
        logicalId,
        name: String(p.AlarmName ?? logicalId),
        rule: flattenRule(p.AlarmRule),
      });
    }
  }
  return out;
}

/** Render a synthesized AlarmRule (string or Fn::Join of strings and Fn::GetAtt Arn) to text. */
function flattenRule(rule: unknown): string {
  if (typeof rule === 'string') return rule;
  if (rule && typeof rule === 'object') {
    const o = rule as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(flattenRule).join(sep);
    }
    if (Array.isArray(o['Fn::GetAtt'])) return `{${(o['Fn::GetAtt'] as string[])[0]}}`;
  }
  throw new Error(`unsupported AlarmRule fragment ${JSON.stringify(rule)}`);
}

function aggregate(values: number[], statistic: Statistic): number {
  switch (statistic) {
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
  }
}

function breaches(value: number, def: MetricAlarmDefinition): boolean {
  switch (def.comparisonOperator) {
    case 'GreaterThanThreshold':
      return value > def.threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= def.threshold;
    case 'LessThanThreshold':
      return value < def.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= def.threshold;
    default:
      throw new Error(`comparison ${def.comparisonOperator} is not modelled`);
  }
}

const sortedCache = new WeakMap<readonly Datapoint[], readonly Datapoint[]>();

/** `series` sorted by time (cached: the simulation evaluates the same series thousands of times). */
function sortedByTime(series: readonly Datapoint[]): readonly Datapoint[] {
  let sorted = sortedCache.get(series);
  if (!sorted) {
    sorted = [...series].sort((a, b) => a.t - b.t);
    sortedCache.set(series, sorted);
  }
  return sorted;
}

/** Index of the first datapoint at or after `t` in a time-sorted series. */
function lowerBound(sorted: readonly Datapoint[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The value of each period ending at or before `at` (most recent last), or undefined when empty. */
export function periodValues(
  def: MetricAlarmDefinition,
  series: readonly Datapoint[],
  at: number,
): (number | undefined)[] {
  const periodMs = def.periodSeconds * 1000;
  const lastEnd = Math.floor(at / periodMs) * periodMs;
  const sorted = sortedByTime(series);
  const out: (number | undefined)[] = [];
  for (let i = def.evaluationPeriods; i >= 1; i -= 1) {
    const start = lastEnd - i * periodMs;
    const values: number[] = [];
    for (let k = lowerBound(sorted, start); k < sorted.length && sorted[k]!.t < start + periodMs; k += 1)
      values.push(sorted[k]!.value);
    out.push(values.length > 0 ? aggregate(values, def.statistic) : undefined);
  }
  return out;
}

/** One evaluation of a metric alarm at time `at`, given its state before. */
export function evaluateMetricAlarm(
  def: MetricAlarmDefinition,
  series: readonly Datapoint[],
  at: number,
  previous: AlarmState,
): AlarmState {
  const values = periodValues(def, series, at);
  if (values.every((v) => v === undefined)) {
    switch (def.treatMissingData) {
      case 'breaching':
        return def.datapointsToAlarm <= values.length ? 'ALARM' : 'OK';
      case 'notBreaching':
        return 'OK';
      case 'ignore':
        return previous;
      case 'missing':
        return 'INSUFFICIENT_DATA';
    }
  }
  let breaching = 0;
  for (const v of values) {
    if (v === undefined) {
      if (def.treatMissingData === 'breaching') breaching += 1;
      continue;
    }
    if (breaches(v, def)) breaching += 1;
  }
  return breaching >= def.datapointsToAlarm ? 'ALARM' : 'OK';
}

/** Evaluate a composite rule over the children's current states (keyed by logical id). */
export function evaluateCompositeRule(rule: string, states: ReadonlyMap<string, AlarmState>): boolean {
  const tokens = rule.match(
    /\(|\)|\bAND\b|\bOR\b|\bNOT\b|\bTRUE\b|\bFALSE\b|(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?\{[^}]+\}"?\s*\)/g,
  );
  if (!tokens) throw new Error(`cannot parse alarm rule ${rule}`);
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const next = (): string => {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`alarm rule ended early: ${rule}`);
    return t;
  };
  const primary = (): boolean => {
    const t = next();
    if (t === '(') {
      const v = orExpr();
      if (next() !== ')') throw new Error(`missing ) in ${rule}`);
      return v;
    }
    if (t === 'NOT') return !primary();
    if (t === 'TRUE') return true;
    if (t === 'FALSE') return false;
    const m = /^(ALARM|OK|INSUFFICIENT_DATA)\(\s*"?\{([^}]+)\}"?\s*\)$/.exec(t);
    if (!m) throw new Error(`unexpected ${t} in ${rule}`);
    const state = states.get(m[2]!);
    if (state === undefined) throw new Error(`alarm rule names unknown alarm ${m[2]}`);
    return state === m[1];
  };
  const andExpr = (): boolean => {
    let v = primary();
    while (peek() === 'AND') {
      next();
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const orExpr = (): boolean => {
    let v = andExpr();
    while (peek() === 'OR') {
      next();
      const r = andExpr();
      v = v || r;
    }
    return v;
  };
  const result = orExpr();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${rule}`);
  return result;
}

export interface StateChange {
  readonly t: number;
  readonly alarm: string;
  readonly state: AlarmState;
}

export interface Simulation {
  /** The state of every alarm (by name) after each evaluation time. */
  readonly timeline: { readonly t: number; readonly states: ReadonlyMap<string, AlarmState> }[];
  readonly changes: StateChange[];
  /** State of alarm `name` at time `t` (the last evaluation at or before t). */
  stateAt(name: string, t: number): AlarmState;
  /** First time at or after `from` at which alarm `name` is in `state`, or undefined. */
  firstTimeIn(name: string, state: AlarmState, from?: number): number | undefined;
}

/**
 * Run every alarm over `[from, to]`, evaluating at each multiple of `stepMs` (default: the
 * shortest alarm period). `metrics` maps a metric name to its datapoints (already filtered to
 * the alarm's namespace and dimensions by the caller, or produced from EMF). Alarms start in
 * INSUFFICIENT_DATA, as a new CloudWatch alarm does.
 */
export function simulate(
  alarms: ReadonlyMap<string, MetricAlarmDefinition | CompositeAlarmDefinition>,
  metrics: ReadonlyMap<string, readonly Datapoint[]>,
  from: number,
  to: number,
  stepMs?: number,
): Simulation {
  const metricAlarms = [...alarms.values()].filter((a): a is MetricAlarmDefinition => a.kind === 'metric');
  const composites = [...alarms.values()].filter(
    (a): a is CompositeAlarmDefinition => a.kind === 'composite',
  );
  const step = stepMs ?? Math.min(...metricAlarms.map((a) => a.periodSeconds * 1000));
  const byId = new Map<string, AlarmState>(
    [...alarms.values()].map((a) => [a.logicalId, 'INSUFFICIENT_DATA']),
  );
  const timeline: Simulation['timeline'] = [];
  const changes: StateChange[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    for (const a of metricAlarms) {
      const next = evaluateMetricAlarm(a, metrics.get(a.metricName) ?? [], t, byId.get(a.logicalId)!);
      if (next !== byId.get(a.logicalId)) changes.push({ t, alarm: a.name, state: next });
      byId.set(a.logicalId, next);
    }
    for (const c of composites) {
      const next: AlarmState = evaluateCompositeRule(c.rule, byId) ? 'ALARM' : 'OK';
      if (next !== byId.get(c.logicalId)) changes.push({ t, alarm: c.name, state: next });
      byId.set(c.logicalId, next);
    }
    const byName = new Map<string, AlarmState>(
      [...alarms.values()].map((a) => [a.name, byId.get(a.logicalId)!]),
    );
    timeline.push({ t, states: byName });
  }
  return {
    timeline,
    changes,
    stateAt(name, t) {
      let entry: (typeof timeline)[number] | undefined;
      for (let lo = 0, hi = timeline.length - 1; lo <= hi;) {
        const mid = (lo + hi) >> 1;
        if (timeline[mid]!.t <= t) {
          entry = timeline[mid];
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (!entry) return 'INSUFFICIENT_DATA';
      const s = entry.states.get(name);
      if (s === undefined) throw new Error(`no alarm named ${name}`);
      return s;
    },
    firstTimeIn(name, state, fromT = -Infinity) {
      return timeline.find((e) => e.t >= fromT && e.states.get(name) === state)?.t;
    },
  };
}
