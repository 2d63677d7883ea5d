import { resultsTable, runSteps, type DrillStep } from '../../drill/runner';
import { timelineSvg } from '../../drill/timeline-svg';

type Ctx = { calls: string[] };

const step = (id: string, run: DrillStep<Ctx>['run'], needs?: string[]): DrillStep<Ctx> => ({
  id,
  title: `step ${id}`,
  needs,
  run,
});

describe('drill runner', () => {
  it('runs steps in order, records PASS/FAIL, and skips steps whose prerequisites failed', async () => {
    // Prepare
    const ctx: Ctx = { calls: [] };
    let out = '';
    const steps = [
      step('a', async (c) => (c.calls.push('a'), { details: ['did a'], figures: { n: 3 } })),
      step('b', async (c) => {
        c.calls.push('b');
        throw Object.assign(new Error('raw'), { userMessage: 'b broke; do x' });
      }),
      step('c', async (c) => (c.calls.push('c'), { details: [] }), ['b']),
      step('d', async (c) => (c.calls.push('d'), { details: [] }), ['a']),
    ];
    // Act
    const results = await runSteps(steps, ctx, { write: (t) => (out += t) });
    // Assess
    expect(ctx.calls).toEqual(['a', 'b', 'd']);
    expect(results.map((r) => r.status)).toEqual(['PASS', 'FAIL', 'SKIPPED', 'PASS']);
    expect(results[0]?.figures).toEqual({ n: 3 });
    expect(results[1]?.error).toBe('b broke; do x');
    expect(out).toContain('[2/4] step b ... FAIL');
    expect(out).toContain('[3/4] step c ... SKIPPED (needs b)');
    expect(out).toContain('    did a\n');
  });

  it('renders a table and an SVG timeline with one row per step', async () => {
    const results = await runSteps(
      [step('a', async () => ({ details: [] })), step('b', async () => ({ details: [] }))],
      { calls: [] },
      {
        write: () => undefined,
      },
    );
    const table = resultsTable(results);
    expect(table.split('\n')).toHaveLength(4);
    expect(table).toMatch(/1\s+step a\s+PASS/);
    const svg = timelineSvg(results, 'Drill <test>');
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg).toContain('Drill &lt;test&gt;');
    // Labels are right-aligned at the chart's left edge: it must leave room for the longest one.
    const long = await runSteps(
      [step('a-step-with-a-very-long-title-indeed-that-goes-on', async () => ({ details: [] }))],
      {
        calls: [],
      },
      { write: () => undefined },
    );
    const labelEdge = Number(/<text x="(\d+)" y="\d+" text-anchor="end"/.exec(timelineSvg(long, 't'))?.[1]);
    expect(labelEdge).toBeGreaterThan(7 * '1. step a-step-with-a-very-long-title-indeed-that-goes-on'.length);
  });
});
