// Revision history and the rollback verdict, pure. Each change of an Agent's runtime starts a
// revision; while a revision is current its health is sampled (replicas not ready, container
// restarts). When a new revision has run for the verification window and is clearly less healthy
// than the one before, it is rolled back to the previous runtime.

export interface RevisionHealth {
  samples: number;
  /** Samples of the Agent's replicas: how many were expected, how many were not ready. */
  replicaSamples: number;
  notReadySamples: number;
  /** Container restarts seen while the revision was current. */
  restarts: number;
  /** Time the revision has been sampled, ms. */
  observedMs: number;
}

export interface Revision {
  revision: number;
  /** Hash of the runtime the revision runs. */
  hash: string;
  runtime: Record<string, unknown>;
  startedAt: string;
  health: RevisionHealth;
  rolledBack?: { at: string; reason: string };
}

export const emptyHealth = (): RevisionHealth => ({ samples: 0, replicaSamples: 0, notReadySamples: 0, restarts: 0, observedMs: 0 });

/** Not-ready fraction plus restarts per replica-minute: 0 is perfect. */
export function badness(health: RevisionHealth): number {
  const notReady = health.replicaSamples ? health.notReadySamples / health.replicaSamples : 0;
  const replicas = health.samples ? Math.max(1, health.replicaSamples / health.samples) : 1;
  const minutes = Math.max(health.observedMs / 60_000, 1 / 60);
  return notReady + health.restarts / (replicas * minutes);
}

/** Records a runtime in the history: a new revision when it differs from the current one. */
export function recordRevision(history: readonly Revision[], hash: string, runtime: Record<string, unknown>, now: Date, keep = 10): Revision[] {
  const current = history.at(-1);
  if (current?.hash === hash) return [...history];
  const next: Revision = { revision: (current?.revision ?? 0) + 1, hash, runtime, startedAt: now.toISOString(), health: emptyHealth() };
  return [...history, next].slice(-keep);
}

export function sampleHealth(health: RevisionHealth, sample: { desired: number; ready: number; restartsDelta: number; elapsedMs: number }): RevisionHealth {
  return {
    samples: health.samples + 1,
    replicaSamples: health.replicaSamples + sample.desired,
    notReadySamples: health.notReadySamples + Math.max(0, sample.desired - sample.ready),
    restarts: health.restarts + Math.max(0, sample.restartsDelta),
    observedMs: health.observedMs + sample.elapsedMs,
  };
}

export type RollbackVerdict = { rollback: true; to: Revision; reason: string } | { rollback: false; reason: string };

/**
 * Rolls back when the current revision ran for the window and its badness exceeds the previous
 * one's by more than `margin` (absolute), so noise on two healthy revisions never rolls back.
 */
export function rollbackVerdict(history: readonly Revision[], windowMs: number, margin = 0.2): RollbackVerdict {
  const current = history.at(-1);
  const previous = [...history.slice(0, -1)].reverse().find((r) => !r.rolledBack);
  if (!current || !previous) return { rollback: false, reason: 'no previous revision' };
  if (current.rolledBack) return { rollback: false, reason: 'already rolled back' };
  if (current.health.observedMs < windowMs) return { rollback: false, reason: 'verification window not over' };
  const now = badness(current.health);
  const before = badness(previous.health);
  if (now > before + margin) {
    const notReady = (h: RevisionHealth): string => `${((100 * h.notReadySamples) / Math.max(1, h.replicaSamples)).toFixed(0)}% replicas not ready, ${h.restarts} restarts`;
    return {
      rollback: true,
      to: previous,
      reason: `revision ${current.revision} is less healthy than revision ${previous.revision} over ${Math.round(windowMs / 1000)} s (${notReady(current.health)} vs ${notReady(previous.health)}): rolling back to revision ${previous.revision}`,
    };
  }
  return { rollback: false, reason: `revision ${current.revision} is as healthy as revision ${previous.revision}` };
}
