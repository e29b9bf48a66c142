// The solver adapter contract and its registry (after grpc-js's registerLoadBalancerType): a
// linear program in a neutral sparse form, solved by whichever adapter is named.

/** A minimisation LP: min cost.x subject to lower <= A x <= upper, 0 <= x <= variable upper. */
export interface LinearProgram {
  /** Variables in order; `name` only helps reading a dumped program. */
  variables: { name?: string; cost: number; upper?: number }[];
  rows: { name?: string; terms: [variable: number, coefficient: number][]; lower?: number; upper?: number }[];
}

export interface LpSolution {
  status: 'optimal' | 'time-limit' | 'infeasible' | 'error';
  objective: number;
  /** Value of each variable, in the program's order. */
  values: Float64Array;
  message?: string;
}

export interface LpSolver {
  readonly name: string;
  /** Loads the solver (WebAssembly and the like); called once before the first solve. */
  setup(): Promise<void>;
  /** Solves the relaxation (continuous variables) within the time limit; never throws for solver outcomes. */
  solve(program: LinearProgram, options: { timeLimitMs: number }): LpSolution;
}

const registry = new Map<string, () => LpSolver>();
const instances = new Map<string, LpSolver>();

export function registerLpSolver(name: string, factory: () => LpSolver): void {
  registry.set(name, factory);
}

export function lpSolverNames(): string[] {
  return [...registry.keys()];
}

/** The named solver, set up once per process. */
export async function lpSolver(name: string): Promise<LpSolver> {
  const existing = instances.get(name);
  if (existing) return existing;
  const factory = registry.get(name);
  if (!factory) throw new Error(`solver: unknown LP solver "${name}" (known: ${lpSolverNames().join(', ')})`);
  const solver = factory();
  await solver.setup();
  instances.set(name, solver);
  return solver;
}
