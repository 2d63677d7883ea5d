import { formatDuration } from '../../core/duration';

describe('formatDuration: the one duration format (milliseconds in)', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [1000, '1s'],
    [4200, '4.2s'],
    [42_000, '42s'],
    [59_940, '59.9s'],
    [60_000, '1m 0s'],
    [1_500_000, '25m 0s'],
    [3_725_000, '1h 2m 5s'],
    [-5, '0ms'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
