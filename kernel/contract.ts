// The kernel's module contract: the one shape every autonomous capability (scheduler, healing,
// autoscaling, trust, drift, governance) takes to plug into the loop
//   observe -> analyse -> decide -> execute -> verify (-> roll back).
// Modules propose actions; only the loop executes them, after the policy gate, and only the
// loop records decisions. Shape after grpc-js's registry of named implementations and the
// Kubernetes scheduler framework's typed extension points and statuses.
import type { Agent, Mesh, Proposal } from '../crds/types.js';
import type { KubeClient } from '../operator/kube/client.js';
import type { Informer } from '../operator/informer/informer.js';
import type { Logger } from '../operator/log.js';
import type { KubeObject } from '../operator/kube/object.js';

/** Resources a module may observe (its informer access is limited to these). */
export type ObservedResource = 'Mesh' | 'Agent' | 'Proposal' | 'Node' | 'Pod' | 'Lease';

/** What an action is about. */
export interface ActionTarget {
  kind: 'Mesh' | 'Agent' | 'Node' | 'Pod' | 'Proposal';
  name: string;
  namespace?: string;
  /** The Mesh whose policy governs the action. */
  mesh: string;
}

/** The metric an action promises to move, and which way, so the loop can verify it. */
export interface ExpectedEffect {
  metric: string;
  direction: 'decrease' | 'increase';
  /** Relative change tolerated in the wrong direction before the action counts as harmful (0.05 = 5%). */
  tolerance?: number;
}

/** An action a module proposes; the loop decides whether it runs. */
export interface ProposedAction {
  module: string;
  /** One of the module's declared action kinds, e.g. `migrate-pod`, `scale`, `taint-node`. */
  kind: string;
  target: ActionTarget;
  /** Why, in one sentence a human on call can read. */
  reason: string;
  /** 0 (harmless) .. 1 (dangerous); compared with the Mesh's policy risk ceiling. */
  risk: number;
  expectedEffect?: ExpectedEffect;
  /** How long after execution the effect is measured; 0 = nothing to verify. */
  verifyWindowMs: number;
  /** Remediation (restoring service) may run in quiet hours; improvements may not. */
  remediation?: boolean;
  /** For autonomy caps: Agents touched and replicas added by this action. */
  agentsTouched?: number;
  replicasAdded?: number;
  /** Module-specific parameters, JSON-serialisable. */
  params: Record<string, unknown>;
}

/** An action with the identity the loop gave it. */
export interface Action extends ProposedAction {
  id: string;
  proposedAt: string;
}

/** What execution left behind so the action can be undone. */
export interface ExecutionResult {
  /** Opaque, JSON-serialisable; handed back to `rollback`. */
  undo?: Record<string, unknown>;
  message: string;
}

/** Typed outcome of a module call, as scheduler-framework plugins return a Status instead of throwing. */
export type ModuleStatus = { code: 'Success' } | { code: 'Error'; message: string } | { code: 'Skip'; message: string };

/** What the loop gives each module: read access to caches, a client for its own writes, a logger. */
export interface ModuleContext {
  client: KubeClient;
  logger: Logger;
  informers: {
    meshes: Informer<Mesh>;
    agents: Informer<Agent>;
    proposals: Informer<Proposal>;
    /** Pods the operator manages (label app.kubernetes.io/managed-by=meshos). */
    pods?: Informer<KubeObject & { spec?: { nodeName?: string } }>;
  };
  now(): Date;
  /** Asks the loop to run this module's `analyse` soon (after an event it cares about). */
  requestAnalysis(): void;
}

/**
 * A kernel module. `analyse` is pure with respect to the cluster: it reads caches and returns
 * proposals; `execute`, `measure` and `rollback` are the only places it changes or measures
 * the world, and the loop calls them.
 */
export interface KernelModule {
  readonly name: string;
  /** Resources the module reads. */
  readonly observes: readonly ObservedResource[];
  /** Action kinds the module may propose; the loop rejects any other. */
  readonly actions: readonly string[];
  /** Called once when the loop starts (after caches sync). */
  setup?(context: ModuleContext): Promise<ModuleStatus> | ModuleStatus;
  /** Looks at the caches and proposes actions (may be none). */
  analyse(context: ModuleContext): Promise<ProposedAction[]> | ProposedAction[];
  /** Carries out an allowed action. */
  execute(action: Action, context: ModuleContext): Promise<ExecutionResult>;
  /** Current value of the metric named in the action's expected effect. */
  measure?(action: Action, context: ModuleContext): Promise<number | undefined>;
  /** Undoes an executed action that made things worse. */
  rollback?(action: Action, result: ExecutionResult, context: ModuleContext): Promise<ExecutionResult>;
  /**
   * Called once when the loop stops (shutdown or lost leadership), after the last `analyse`: the
   * module finishes its background work and writes what the next leader must find.
   */
  teardown?(context: ModuleContext): Promise<void> | void;
}

export type KernelModuleFactory<Options = unknown> = (options: Options) => KernelModule;
