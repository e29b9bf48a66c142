import type { Reconciler, ReconcileResult } from '../controller.js';
import type { Logger } from '../log.js';
import type { TrustRecomputer } from '../../kernel/trust/recompute.js';

export const TRUST_CONTROLLER = 'trust';

/**
 * Keeps each Agent's status.trust current: recomputes on every Agent or Mesh change and, while
 * a trust-weights transition runs, again at the recomputer's pace so scores blend instead of jump.
 */
export class TrustReconciler implements Reconciler {
  readonly name = TRUST_CONTROLLER;

  constructor(private readonly recomputer: TrustRecomputer) {}

  async reconcile(key: string, _logger: Logger): Promise<ReconcileResult | void> {
    const result = await this.recomputer.recompute(key);
    return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : undefined;
  }
}
