/**
 * A timeline picture of the drill as SVG: one bar per step, coloured by result. Written by hand
 * rather than with a charting library: SVG needs no browser to render and shows inline on the
 * code-hosting site.
 */
import type { StepResult } from './runner';

const COLOURS = { PASS: '#2ca02c', FAIL: '#d62728', SKIPPED: '#999999' } as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function timelineSvg(results: readonly StepResult[], title: string): string {
  const first = results[0]?.startedAt.getTime() ?? 0;
  const end = Math.max(first + 1, ...results.map((r) => r.startedAt.getTime() + r.durationMs));
  const total = end - first;
  // Wide enough for the longest label: about 7 px per character at 12 px sans-serif.
  const labels = results.map((r, i) => `${i + 1}. ${r.title}`);
  const labelW = Math.max(200, 16 + 7 * Math.max(0, ...labels.map((l) => l.length)));
  const chartW = 520;
  const rowH = 26;
  const top = 40;
  const height = top + rowH * results.length + 40;
  const x = (ms: number): number => labelW + (ms / total) * chartW;
  const rows = results.map((r, i) => {
    const y = top + i * rowH;
    const start = r.startedAt.getTime() - first;
    const w = Math.max(2, (r.durationMs / total) * chartW);
    return [
      `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(labels[i] ?? '')}</text>`,
      `<rect x="${x(start).toFixed(1)}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="${COLOURS[r.status]}"><title>${esc(`${r.title}: ${r.status}, ${(r.durationMs / 1000).toFixed(1)} s`)}</title></rect>`,
      `<text x="${(x(start) + w + 6).toFixed(1)}" y="${y + 17}">${r.status} ${(r.durationMs / 1000).toFixed(1)} s</text>`,
    ].join('');
  });
  const seconds = total / 1000;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const tx = labelW + f * chartW;
    return `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${height - 34}" stroke="#ddd"/><text x="${tx}" y="${height - 18}" text-anchor="middle">${(f * seconds).toFixed(0)} s</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + chartW + 120}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...ticks,
    ...rows,
    `</svg>`,
  ].join('\n');
}
