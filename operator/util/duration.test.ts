import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['72h', 72 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['0', 0],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '72', 'h', '1d', '1h 30m', '-1h', '1h30'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });

  it('formats whole units', () => {
    expect(formatDuration(72 * 3_600_000)).toBe('72h');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(30 * 60_000)).toBe('30m');
  });
});
