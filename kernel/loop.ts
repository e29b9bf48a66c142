import { randomUUID } from 'node:crypto';
import { getErrorMessage } from '../operator/kube/errors.js';
import { systemClock, type Clock } from '../operator/ratelimit/clock.js';
import type { Action, ExecutionResult, ExpectedEffect, KernelModule, ModuleContext, ProposedAction } from './contract.js';
import type { DecisionLog, DecisionOutcome } from './decision-log.js';
import { PolicyLedger, agentsOf, approvalsSatisfied, evaluatePolicy, type Approvers, type MeshPolicy } from './policy.js';

export interface Approval {
  by: string;
  kind: 'human' | 'coordinator';
  at: string;
}

export interface HeldAction {
  action: Action;
  approvers: Approvers;
  approvals: Approval[];
}

export interface KernelLoopOptions {
  modules: readonly KernelModule[];
  context: ModuleContext;
  log: DecisionLog;
  /** The policy in force for a mesh and how many Agents it has. */
  policyFor: (mesh: string) => { policy: MeshPolicy | undefined; agentCount: number };
  clock?: Clock;
  newId?: () => string;
}

/**
 * True when the measured value moved the wrong way by more than the tolerance (default 5%):
 * the action made things worse and is rolled back. An unmeasurable value is not judged harmful.
 */
export function madeWorse(effect: ExpectedEffect, before: number | undefined, after: number | undefined): boolean {
  if (before === undefined || after === undefined || !Number.isFinite(before) || !Number.isFinite(after)) return false;
  const tolerance = Math.abs(before) * (effect.tolerance ?? 0.05);
  return effect.direction === 'decrease' ? after > before + tolerance : after < before - tolerance;
}

/**
 * The autonomous loop: modules' proposals pass the policy gate, allowed ones execute, and each
 * executed action with an expected effect is measured again after its verification window and
 * rolled back when it made things worse. Held actions wait for approval; a human override can
 * stop or force any action. Every step lands in the decision log.
 */
export class KernelLoop {
  private readonly modules = new Map<string, KernelModule>();
  private readonly ledgers = new Map<string, PolicyLedger>();
  private readonly held = new Map<string, HeldAction>();
  private readonly recent = new Map<string, Action>();
  private readonly verifications = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly stopped = new AbortController();

  constructor(private readonly options: KernelLoopOptions) {
    this.clock = options.clock ?? systemClock;
    for (const module of options.modules) {
      if (this.modules.has(module.name)) throw new Error(`kernel module "${module.name}" given twice`);
      this.modules.set(module.name, module);
    }
  }

  get context(): ModuleContext {
    return this.options.context;
  }

  /** Runs every module's analysis once and submits what they propose. */
  async analyseOnce(): Promise<Action[]> {
    const submitted: Action[] = [];
    for (const module of this.modules.values()) {
      let proposals: ProposedAction[];
      try {
        proposals = await module.analyse(this.options.context);
      } catch (error) {
        this.options.context.logger.warn({ module: module.name, error: getErrorMessage(error) }, 'Kernel module analysis failed');
        continue;
      }
      for (const proposal of proposals) submitted.push(await this.submit(proposal));
    }
    return submitted;
  }

  /** Puts one proposed action through the gate and, when allowed, executes it. */
  async submit(proposed: ProposedAction): Promise<Action> {
    const action: Action = { ...proposed, id: (this.options.newId ?? randomUUID)(), proposedAt: this.now().toISOString() };
    this.remember(action);
    this.record(action, 'proposed', action.reason);
    const module = this.modules.get(action.module);
    if (!module) {
      this.record(action, 'blocked', `unknown module ${action.module}`);
      return action;
    }
    if (!module.actions.includes(action.kind)) {
      this.record(action, 'blocked', `module ${module.name} does not declare action kind ${action.kind} (declared: ${module.actions.join(', ')})`);
      return action;
    }
    const { policy, agentCount } = this.options.policyFor(action.target.mesh);
    const decision = evaluatePolicy({ action, policy, meshAgentCount: agentCount, ledger: this.ledger(action.target.mesh), now: this.now() });
    switch (decision.outcome) {
      case 'blocked':
        this.record(action, 'blocked', `${decision.rule}: ${decision.reason}`);
        return action;
      case 'held':
        this.held.set(action.id, { action, approvers: decision.approvers, approvals: [] });
        this.record(action, 'held', decision.reason);
        return action;
      case 'allowed':
        this.record(action, 'allowed', decision.reason);
        await this.execute(action);
        return action;
    }
  }

  /** Puts back a held action read from the cluster after a restart or leader change. */
  restoreHeld(action: Action, approvers: Approvers): void {
    if (this.held.has(action.id)) return;
    this.held.set(action.id, { action, approvers, approvals: [] });
    this.remember(action);
  }

  isHeld(actionId: string): boolean {
    return this.held.has(actionId);
  }

  heldActions(): HeldAction[] {
    return [...this.held.values()];
  }

  /** Records an approval; runs the action once the approvals the mesh requires are in. */
  async approve(actionId: string, by: string, kind: Approval['kind']): Promise<'executed' | 'waiting'> {
    const held = this.held.get(actionId);
    if (!held) throw new Error(`no held action ${actionId}`);
    if (kind === 'human' && !held.approvers.human) throw new Error(`action ${actionId} needs coordinator approvals; a human approval does not count here (use override to force it)`);
    if (kind === 'coordinator' && held.approvers.coordinators === 0) throw new Error(`action ${actionId} may only be approved by a human`);
    // The same approver counted twice is still one independent evaluation.
    if (!held.approvals.some((a) => a.by === by && a.kind === kind)) held.approvals.push({ by, kind, at: this.now().toISOString() });
    if (!approvalsSatisfied(held.approvers, held.approvals)) return 'waiting';
    this.held.delete(actionId);
    const who = held.approvals.map((a) => `${a.kind} ${a.by}`).join(', ');
    this.record(held.action, 'approved', `approved by ${who}`);
    await this.execute(held.action);
    return 'executed';
  }

  /** A human override: `stop` drops a held action; `force` runs a held or blocked action regardless of policy. */
  async override(actionId: string, mode: 'stop' | 'force', by: string): Promise<void> {
    const action = this.held.get(actionId)?.action ?? this.recent.get(actionId);
    if (!action) throw new Error(`no known action ${actionId}`);
    this.held.delete(actionId);
    this.record(action, 'overridden', `${mode === 'stop' ? 'stopped' : 'forced'} by ${by}`);
    if (mode === 'force') await this.execute(action);
  }

  /** Resolves when every pending verification has finished (tests, clean shutdown). */
  async settle(): Promise<void> {
    while (this.verifications.size > 0) await Promise.allSettled([...this.verifications]);
  }

  stop(): void {
    this.stopped.abort();
  }

  private async execute(action: Action): Promise<void> {
    const module = this.modules.get(action.module);
    if (!module) return;
    const context = this.options.context;
    const effect = action.expectedEffect;
    const before = effect && module.measure ? await module.measure(action, context).catch(() => undefined) : undefined;
    let result: ExecutionResult;
    try {
      result = await module.execute(action, context);
    } catch (error) {
      this.record(action, 'failed', getErrorMessage(error));
      return;
    }
    this.ledger(action.target.mesh).add({ at: this.clock.now(), agents: agentsOf(action), replicasAdded: action.replicasAdded ?? 0 });
    this.record(action, 'executed', result.message);
    if (effect && module.measure && action.verifyWindowMs > 0) {
      const verification = this.verify(module, action, result, effect, before).finally(() => this.verifications.delete(verification));
      this.verifications.add(verification);
    }
  }

  private async verify(module: KernelModule, action: Action, result: ExecutionResult, effect: ExpectedEffect, before: number | undefined): Promise<void> {
    await this.clock.sleep(action.verifyWindowMs, this.stopped.signal);
    if (this.stopped.signal.aborted) return;
    const context = this.options.context;
    const after = await module.measure?.(action, context).catch(() => undefined);
    const measured = { metric: effect.metric, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) };
    if (!madeWorse(effect, before, after)) {
      this.record(action, 'verified', `${effect.metric} ${before ?? '?'} -> ${after ?? '?'} (expected to ${effect.direction})`, measured);
      return;
    }
    const reason = `${effect.metric} went from ${before} to ${after}, expected to ${effect.direction}: rolled back`;
    if (!module.rollback) {
      this.record(action, 'failed', `${effect.metric} went from ${before} to ${after} and module ${module.name} cannot roll back`, measured);
      return;
    }
    try {
      await module.rollback(action, result, context);
      this.record(action, 'rolled-back', reason, measured);
    } catch (error) {
      this.record(action, 'failed', `rollback failed: ${getErrorMessage(error)}`, measured);
    }
  }

  private ledger(mesh: string): PolicyLedger {
    let ledger = this.ledgers.get(mesh);
    if (!ledger) this.ledgers.set(mesh, (ledger = new PolicyLedger()));
    return ledger;
  }

  private remember(action: Action): void {
    this.recent.set(action.id, action);
    if (this.recent.size > 1000) this.recent.delete(this.recent.keys().next().value as string);
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  private record(action: Action, outcome: DecisionOutcome, reason: string, measured?: { metric: string; before?: number; after?: number }): void {
    this.options.log.record(
      {
        actionId: action.id,
        module: action.module,
        kind: action.kind,
        target: action.target,
        outcome,
        reason,
        risk: action.risk,
        ...(measured ? { measured } : {}),
      },
      this.now(),
    );
  }
}
