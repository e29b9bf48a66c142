import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../test/harness/paths.js';
import { findMetricDefinitions } from '../operator/metric-names.js';
import { grants, requiredPermissions, rulesOf, wildcardRules } from './rbac.js';

const root = projectRoot();

/** Calls the code makes that the chart deliberately does not allow, and why that is safe. */
const NOT_GRANTED = new Set([
  // The manager creates the lease namespace only when it is missing; Helm creates the release namespace first.
  'create core/namespaces',
]);
const chart = join(root, 'charts', 'meshos');
// The RBAC template without its template directives is plain YAML.
const rbacTemplate = readFileSync(join(chart, 'templates', 'rbac.yaml'), 'utf8')
  .split('\n')
  .filter((line) => !line.includes('{{'))
  .join('\n');

describe('charts/meshos', () => {
  it('ships the generated CRDs unchanged (npm run gen:docs copies them)', () => {
    const generated = readdirSync(join(root, 'crds', 'generated')).filter((f) => f.endsWith('.yaml')).sort();
    expect(readdirSync(join(chart, 'crds')).sort()).toEqual(generated);
    for (const file of generated) expect(readFileSync(join(chart, 'crds', file), 'utf8'), `charts/meshos/crds/${file} is stale`).toBe(readFileSync(join(root, 'crds', 'generated', file), 'utf8'));
  });

  it('grants every permission the operator code uses, with no wildcards', () => {
    const rules = rulesOf(rbacTemplate);
    expect(rules.length).toBeGreaterThan(5);
    const needed = requiredPermissions(root);
    // The scan must find the basics, or it is not scanning.
    expect(needed).toEqual(expect.arrayContaining([
      { group: 'meshos.dev', resource: 'agents', verb: 'watch' },
      { group: 'apps', resource: 'deployments', verb: 'watch' },
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'update' },
      { group: 'authentication.k8s.io', resource: 'tokenreviews', verb: 'create' },
    ]));
    const missing = needed
      .filter((p) => !grants(rules, p))
      .map((p) => `${p.verb} ${p.group || 'core'}/${p.resource}`)
      .filter((p) => !NOT_GRANTED.has(p));
    expect(missing, 'add these to charts/meshos/templates/rbac.yaml').toEqual([]);
    expect(wildcardRules(rules)).toEqual([]);
  });

  it('does not grant cluster-wide Secrets or namespace creation', () => {
    const clusterRole = rbacTemplate.split('---')[0] ?? '';
    const rules = rulesOf(clusterRole);
    expect(grants(rules, { group: '', resource: 'secrets', verb: 'get' })).toBe(false);
    expect(grants(rules, { group: '', resource: 'namespaces', verb: 'create' })).toBe(false);
  });
});

/** Metrics of modules merged from other branches (scheduler); the dashboard may name them before they land here. */
const FROM_OTHER_BRANCHES = new Set(['meshos_scheduler_bindings_total', 'meshos_scheduler_solve_duration_seconds', 'meshos_scheduler_pending_pods', 'meshos_scheduler_preemption_victims_total', 'meshos_scheduler_migrations_total']);

describe('charts/meshos/dashboards/meshos.json', () => {
  const dashboard = JSON.parse(readFileSync(join(chart, 'dashboards', 'meshos.json'), 'utf8')) as {
    uid: string;
    panels: { type: string; title: string; targets?: { expr: string }[] }[];
  };

  it('has a section for reconciles, scheduling, healing, discovery and governance', () => {
    expect(dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['Reconciles', 'Scheduling', 'Healing', 'Discovery', 'Governance']);
  });

  it('queries only metrics the project defines', () => {
    const defined = new Set(findMetricDefinitions(root, ['operator', 'kernel', 'scheduler', 'healing', 'discovery', 'governance', 'forecasting']).map((m) => m.name));
    const used = dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\b(meshos_[a-z0-9_]+)/g)].map((m) => (m[1] ?? '').replace(/_(bucket|sum|count)$/, '')));
    expect(used.length).toBeGreaterThan(15);
    expect([...new Set(used)].filter((name) => !defined.has(name) && !FROM_OTHER_BRANCHES.has(name))).toEqual([]);
  });
});
