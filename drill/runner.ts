/**
 * The drill runner: runs steps in order, shows progress as it goes, times each step, keeps going
 * after a failure where later steps do not depend on it, and returns the results for the report.
 */

export interface StepOutcome {
  /** Lines shown under the step and in the report: what happened, with figures. */
  readonly details: readonly string[];
  /** Named figures (seconds, counts) for the summary. */
  readonly figures?: Readonly<Record<string, number>>;
}

export interface DrillStep<C> {
  readonly id: string;
  readonly title: string;
  /** Ids of steps that must have passed for this one to run. */
  readonly needs?: readonly string[];
  run(ctx: C, log: (line: string) => void): Promise<StepOutcome>;
}

export interface StepResult {
  readonly id: string;
  readonly title: string;
  readonly status: 'PASS' | 'FAIL' | 'SKIPPED';
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly details: readonly string[];
  readonly figures: Readonly<Record<string, number>>;
  readonly error?: string;
}

export interface RunOptions {
  /** Where progress goes. @default process.stdout */
  readonly write?: (text: string) => void;
  readonly now?: () => Date;
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'userMessage' in err && typeof err.userMessage === 'string') {
    return err.userMessage;
  }
  return err instanceof Error ? err.message : String(err);
}

export async function runSteps<C>(
  steps: readonly DrillStep<C>[],
  ctx: C,
  options: RunOptions = {},
): Promise<StepResult[]> {
  const write = options.write ?? ((t: string) => process.stdout.write(t));
  const now = options.now ?? (() => new Date());
  const results: StepResult[] = [];
  const passed = new Set<string>();

  for (const [i, step] of steps.entries()) {
    const label = `[${i + 1}/${steps.length}] ${step.title}`;
    const missing = (step.needs ?? []).filter((id) => !passed.has(id));
    const startedAt = now();
    if (missing.length > 0) {
      write(`${label} ... SKIPPED (needs ${missing.join(', ')})\n`);
      results.push({
        id: step.id,
        title: step.title,
        status: 'SKIPPED',
        startedAt,
        durationMs: 0,
        details: [`skipped: step(s) ${missing.join(', ')} did not pass`],
        figures: {},
      });
      continue;
    }
    write(`${label} ...\n`);
    const lines: string[] = [];
    const log = (line: string): void => {
      lines.push(line);
      write(`    ${line}\n`);
    };
    const t0 = performance.now();
    try {
      const outcome = await step.run(ctx, log);
      const durationMs = performance.now() - t0;
      for (const d of outcome.details) log(d);
      write(`${label} ... PASS (${(durationMs / 1000).toFixed(1)} s)\n`);
      passed.add(step.id);
      results.push({
        id: step.id,
        title: step.title,
        status: 'PASS',
        startedAt,
        durationMs,
        details: lines,
        figures: outcome.figures ?? {},
      });
    } catch (err) {
      const durationMs = performance.now() - t0;
      const error = errorText(err);
      write(`${label} ... FAIL (${(durationMs / 1000).toFixed(1)} s): ${error}\n`);
      results.push({
        id: step.id,
        title: step.title,
        status: 'FAIL',
        startedAt,
        durationMs,
        details: lines,
        figures: {},
        error,
      });
    }
  }
  return results;
}

/** Fixed-width text table of the results. */
export function resultsTable(results: readonly StepResult[]): string {
  const rows = results.map((r, i) => [
    String(i + 1),
    r.title,
    r.status,
    `${(r.durationMs / 1000).toFixed(1)} s`,
  ]);
  const header = ['#', 'step', 'result', 'duration'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ');
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}
