import { describe, expect, it } from 'vitest';
import { projectRoot } from '../test/harness/paths.js';
import { findMetricDefinitions, namingProblems } from './metric-names.js';
import { OperatorMetrics } from './metrics.js';

const DIRS = ['operator', 'kernel', 'scheduler', 'healing', 'discovery', 'governance', 'forecasting', 'cli'];

describe('metric names', () => {
  it('finds the operator metrics by reading the source', () => {
    const found = findMetricDefinitions(projectRoot(), DIRS);
    expect(found.map((m) => m.name)).toEqual(expect.arrayContaining(['meshos_reconcile_total', 'meshos_reconcile_duration_seconds', 'meshos_kernel_decisions_total', 'meshos_grpc_server_handling_seconds']));
    expect(found.find((m) => m.name === 'meshos_reconcile_total')?.labels).toEqual(['controller', 'result']);
  });

  it('follow Prometheus conventions with bounded labels everywhere in the project', () => {
    const problems = findMetricDefinitions(projectRoot(), DIRS).flatMap(namingProblems);
    expect(problems).toEqual([]);
  });

  it('catches the usual mistakes', () => {
    const bad = (name: string, type: 'Counter' | 'Gauge' | 'Histogram', labels: string[] = []): string[] => namingProblems({ file: 'x.ts', name, type, labels });
    expect(bad('meshos_binds', 'Counter')).toEqual([expect.stringContaining('_total')]);
    expect(bad('meshos_solve_ms', 'Histogram').join()).toContain('base units');
    expect(bad('meshos_gap_percent', 'Gauge').join()).toContain('base units');
    expect(bad('meshos_agents_total', 'Gauge').join()).toContain('only counters');
    expect(bad('meshos_x_total', 'Counter', ['pod']).join()).toContain('unbounded');
    expect(bad('meshos_x_total', 'Counter', ['controller'])).toEqual([]);
  });

  it('registers every operator metric with help text in one registry', async () => {
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    const all = await metrics.registry.getMetricsAsJSON();
    expect(all.length).toBeGreaterThan(8);
    for (const metric of all) expect(metric.help.length, metric.name).toBeGreaterThan(10);
  });
});
