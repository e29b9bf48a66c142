// The in-tree LP solvers. HiGHS is the default: in bench/scheduler.ts it solved the same
// relaxations as javascript-lp-solver to the same optimum, far faster (docs in scheduler/README.md).
import { HighsSolver } from './highs.js';
import { JsLpSolver } from './js-lp-solver.js';
import { registerLpSolver } from './lp.js';

export const DEFAULT_LP_SOLVER = 'highs';

registerLpSolver('highs', () => new HighsSolver());
registerLpSolver('jsLpSolver', () => new JsLpSolver());

export { lpSolver, lpSolverNames } from './lp.js';
