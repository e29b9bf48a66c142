// HiGHS (compiled to WebAssembly) behind the LP adapter. The one-shot `solve` creates and
// destroys a native instance per call, so WebAssembly memory does not grow across solves.
import * as highsModule from 'highs';
import type { LinearProgram, LpSolution, LpSolver } from './lp.js';

// The package's types describe CommonJS while Node loads its ES build: accept either shape.
type Loader = typeof highsModule.default.default;
const exported = highsModule.default as unknown as Loader | { default: Loader };
const loadHighs: Loader = typeof exported === 'function' ? exported : exported.default;
type Highs = Awaited<ReturnType<Loader>>;

/** CPLEX LP text of the program; variables are named v<i>, rows r<i>. */
export function toCplexLp(program: LinearProgram): string {
  const parts: string[] = ['Minimize', ' obj:'];
  const objective: string[] = [];
  program.variables.forEach((variable, index) => {
    if (variable.cost !== 0) objective.push(`${variable.cost >= 0 ? '+' : '-'} ${Math.abs(variable.cost)} v${index}`);
  });
  parts.push(objective.length ? ` ${objective.join(' ')}` : ' 0 v0');
  parts.push('Subject To');
  program.rows.forEach((row, index) => {
    const lhs = row.terms.map(([variable, coefficient]) => `${coefficient >= 0 ? '+' : '-'} ${Math.abs(coefficient)} v${variable}`).join(' ');
    if (row.lower !== undefined && row.upper !== undefined && row.lower === row.upper) parts.push(` r${index}: ${lhs} = ${row.upper}`);
    else {
      if (row.upper !== undefined) parts.push(` r${index}u: ${lhs} <= ${row.upper}`);
      if (row.lower !== undefined) parts.push(` r${index}l: ${lhs} >= ${row.lower}`);
    }
  });
  parts.push('Bounds');
  program.variables.forEach((variable, index) => {
    parts.push(variable.upper !== undefined ? ` 0 <= v${index} <= ${variable.upper}` : ` v${index} >= 0`);
  });
  parts.push('End');
  return parts.join('\n');
}

export class HighsSolver implements LpSolver {
  readonly name = 'highs';
  private highs: Highs | undefined;

  async setup(): Promise<void> {
    this.highs ??= await loadHighs();
  }

  solve(program: LinearProgram, options: { timeLimitMs: number }): LpSolution {
    if (!this.highs) throw new Error('highs: setup() was not called');
    const values = new Float64Array(program.variables.length);
    try {
      const result = this.highs.solve(toCplexLp(program), { output_flag: false, time_limit: Math.max(0.05, options.timeLimitMs / 1000) });
      if (result.Status === 'Optimal') {
        for (const [name, column] of Object.entries(result.Columns)) values[Number(name.slice(1))] = (column as { Primal?: number }).Primal ?? 0;
        return { status: 'optimal', objective: result.ObjectiveValue, values };
      }
      if (result.Status === 'Time limit reached') return { status: 'time-limit', objective: NaN, values, message: result.Status };
      if (result.Status === 'Infeasible') return { status: 'infeasible', objective: NaN, values, message: result.Status };
      return { status: 'error', objective: NaN, values, message: result.Status };
    } catch (error) {
      return { status: 'error', objective: NaN, values, message: error instanceof Error ? error.message : String(error) };
    }
  }
}
