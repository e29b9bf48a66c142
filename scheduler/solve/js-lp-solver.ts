// javascript-lp-solver (pure JavaScript simplex) behind the LP adapter.
import * as jsLpSolverModule from 'javascript-lp-solver';

// The package's types describe CommonJS while Node loads its ES build: accept either shape.
type Api = typeof jsLpSolverModule.default.default;
const exported = jsLpSolverModule.default as unknown as Api | { default: Api };
const jsLpSolver: Api = 'Solve' in exported ? exported : exported.default;
import type { LinearProgram, LpSolution, LpSolver } from './lp.js';

export class JsLpSolver implements LpSolver {
  readonly name = 'jsLpSolver';

  setup(): Promise<void> {
    return Promise.resolve();
  }

  solve(program: LinearProgram, options: { timeLimitMs: number }): LpSolution {
    const constraints: Record<string, { min?: number; max?: number; equal?: number }> = {};
    const variables: Record<string, Record<string, number>> = {};
    program.variables.forEach((variable, index) => {
      variables[`v${index}`] = { cost: variable.cost };
      if (variable.upper !== undefined) {
        constraints[`b${index}`] = { max: variable.upper };
        (variables[`v${index}`] as Record<string, number>)[`b${index}`] = 1;
      }
    });
    program.rows.forEach((row, index) => {
      constraints[`r${index}`] =
        row.lower !== undefined && row.lower === row.upper ? { equal: row.lower } : { ...(row.lower !== undefined ? { min: row.lower } : {}), ...(row.upper !== undefined ? { max: row.upper } : {}) };
      for (const [variable, coefficient] of row.terms) (variables[`v${variable}`] as Record<string, number>)[`r${index}`] = coefficient;
    });
    const values = new Float64Array(program.variables.length);
    try {
      const result = jsLpSolver.Solve({ optimize: 'cost', opType: 'min', constraints, variables, options: { timeout: options.timeLimitMs } }) as Record<string, unknown>;
      if (result['feasible'] !== true) return { status: 'infeasible', objective: NaN, values };
      for (const [name, value] of Object.entries(result)) {
        if (name.startsWith('v') && typeof value === 'number') values[Number(name.slice(1))] = value;
      }
      let objective = 0;
      program.variables.forEach((variable, index) => (objective += variable.cost * (values[index] ?? 0)));
      return { status: 'optimal', objective, values };
    } catch (error) {
      return { status: 'error', objective: NaN, values, message: error instanceof Error ? error.message : String(error) };
    }
  }
}
