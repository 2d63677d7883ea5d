/**
 * The one duration format, for every figure a person reads (CLI summaries, restore-status's
 * `elapsed`): `850ms`, `4.2s`, `42s`, `25m 0s`, `1h 2m 5s`. Takes milliseconds.
 */
export function formatDuration(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 1000) return `${Math.round(safe)}ms`;
  if (safe < 60_000) return `${Number((safe / 1000).toFixed(1))}s`;
  const s = Math.round(safe / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m ${s % 60}s` : `${m}m ${s % 60}s`;
}
