/**
 * Exponential backoff with full jitter kept in a band: attempt 0 waits about `initialMs`,
 * each next attempt doubles, capped at `maxMs`. Jitter spreads reconnect storms after an
 * API-server restart.
 */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt));
  // Between 75% and 100% of the base: never zero, never above the cap.
  return Math.round(base * (0.75 + 0.25 * random()));
}
