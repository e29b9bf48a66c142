// HiGHS (compiled to WebAssembly) behind the LP adapter. The program goes in as sparse arrays
// (passModel), not as LP text: at 10,000 pods x 1,000 nodes writing and parsing the text and
// building the per-column result object cost more than the simplex itself. Each solve uses a
// fresh native model that is disposed afterwards, so WebAssembly memory does not grow.
import * as highsModule from 'highs';
import type { LinearProgram, LpSolution, LpSolver } from './lp.js';

// The package's types describe CommonJS while Node loads its ES build: accept either shape.
type Loader = typeof highsModule.default.default;
const exported = highsModule.default as unknown as Loader | { default: Loader };
const loadHighs: Loader = typeof exported === 'function' ? exported : exported.default;
type Highs = Awaited<ReturnType<Loader>>;
type ModelData = Parameters<Highs['createModel']>[0] & { numCols: number };

/** HiGHS model status codes (HighsModelStatus). */
const STATUS = { optimal: 7, infeasible: 8, timeLimit: 13 } as const;

/** CPLEX LP text of the program (variables v<i>, rows r<i>): for reading a program, and for solvers that take text. */
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

/** The program as HiGHS's sparse model: row-wise (CSR) matrix, infinite bounds where none is given. */
export function toHighsModel(program: LinearProgram, infinity: number): ModelData {
  const numCols = program.variables.length;
  const numRows = program.rows.length;
  const colCost = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols);
  program.variables.forEach((variable, index) => {
    colCost[index] = variable.cost;
    colUpper[index] = variable.upper ?? infinity;
  });
  let nonZeros = 0;
  for (const row of program.rows) nonZeros += row.terms.length;
  const rowLower = new Float64Array(numRows);
  const rowUpper = new Float64Array(numRows);
  const starts = new Int32Array(numRows + 1);
  const indices = new Int32Array(nonZeros);
  const values = new Float64Array(nonZeros);
  let at = 0;
  program.rows.forEach((row, index) => {
    rowLower[index] = row.lower ?? -infinity;
    rowUpper[index] = row.upper ?? infinity;
    starts[index] = at;
    for (const [variable, coefficient] of row.terms) {
      indices[at] = variable;
      values[at] = coefficient;
      at++;
    }
  });
  starts[numRows] = at;
  return { numCols, numRows, colCost, colLower: new Float64Array(numCols), colUpper, rowLower, rowUpper, matrix: { format: 'csr', numRows, numCols, starts, indices, values } };
}

/**
 * A transportation LP of a few thousand columns: solved once at setup, so the first real solve
 * does not pay for WebAssembly's baseline tier (measured here: the first large solve took about
 * 1.2 s, the next ones 0.2 s).
 */
function warmUpProgram(): LinearProgram {
  const sources = 120;
  const sinks = 40;
  const program: LinearProgram = { variables: [], rows: [] };
  const sinkTerms: [number, number][][] = Array.from({ length: sinks }, () => []);
  for (let s = 0; s < sources; s++) {
    const terms: [number, number][] = [];
    for (let t = 0; t < sinks; t++) {
      const column = program.variables.length;
      program.variables.push({ cost: ((s * 7 + t * 13) % 17) / 17, upper: 4 });
      terms.push([column, 1]);
      sinkTerms[t]?.push([column, 1 + ((s + t) % 3)]);
    }
    program.variables.push({ cost: 3 });
    terms.push([program.variables.length - 1, 1]);
    program.rows.push({ terms, lower: 5, upper: 5 });
  }
  for (const terms of sinkTerms) program.rows.push({ terms, upper: 30 });
  return program;
}

export class HighsSolver implements LpSolver {
  readonly name = 'highs';
  private highs: Highs | undefined;

  async setup(): Promise<void> {
    if (this.highs) return;
    this.highs = await loadHighs();
    for (let i = 0; i < 3; i++) this.solve(warmUpProgram(), { timeLimitMs: 5000 });
  }

  solve(program: LinearProgram, options: { timeLimitMs: number }): LpSolution {
    if (!this.highs) throw new Error('highs: setup() was not called');
    const values = new Float64Array(program.variables.length);
    let model: ReturnType<Highs['createModel']> | undefined;
    try {
      model = this.highs.createModel(toHighsModel(program, this.highs.infinity));
      // Presolve off: on these assignment LPs (10,000 pods x 1,000 nodes) it took as long as the
      // simplex it saved, and the solve ran in half the time without it.
      model.options.set({ output_flag: false, presolve: 'off', time_limit: Math.max(0.05, options.timeLimitMs / 1000) });
      const { modelStatus } = model.run();
      if (modelStatus === STATUS.optimal) {
        values.set(model.getSolution().colValue.subarray(0, values.length));
        return { status: 'optimal', objective: model.getObjectiveValue(), values };
      }
      if (modelStatus === STATUS.timeLimit) return { status: 'time-limit', objective: NaN, values, message: 'time limit reached' };
      if (modelStatus === STATUS.infeasible) return { status: 'infeasible', objective: NaN, values, message: 'infeasible' };
      return { status: 'error', objective: NaN, values, message: `HiGHS model status ${modelStatus}` };
    } catch (error) {
      return { status: 'error', objective: NaN, values, message: error instanceof Error ? error.message : String(error) };
    } finally {
      model?.dispose();
    }
  }
}
