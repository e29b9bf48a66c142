const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go-style duration (`72h`, `1h30m`, `90s`, `1.5h`) into milliseconds, as kubectl and
 * the CRD's duration fields spell them. Throws RangeError naming the bad text.
 */
export function parseDuration(text: string): number {
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  if (text === '' || text === '0') {
    if (text === '0') return 0;
    throw new RangeError('duration is empty');
  }
  let total = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
    consumed = pattern.lastIndex;
  }
  if (consumed !== text.length) throw new RangeError(`"${text}" is not a duration like 72h, 1h30m or 90s`);
  return total;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
