import { describe, expect, it } from 'vitest';
import { capacityPlans, cpuCores, dailyGrowth, type AgentDemandForecast, type NodeCapacity } from './plan.js';

const HOUR = 3_600_000;
const start = Date.UTC(2026, 0, 1);

function agent(key: string, region: string, demand: (hour: number) => number, maxReplicas = 100): AgentDemandForecast {
  const hours = 90 * 24;
  const point = Array.from({ length: hours }, (_, h) => demand(h));
  return { key, region, startMs: start, stepMs: HOUR, point, upper: point.map((p) => p * 1.1), capacityPerReplica: 10, minReplicas: 1, maxReplicas, cpuPerReplica: 1 };
}

const nodes = (region: string, count: number): NodeCapacity[] => Array.from({ length: count }, () => ({ region, cpu: 4, costPerHour: 0.5, carbonIntensity: 200, powerKw: 0.25, ready: true }));

describe('capacity plans', () => {
  it('sums agents per region: peak and mean demand, replicas, nodes, cost and carbon', () => {
    const plans = capacityPlans([agent('ns/a', 'eu', () => 100), agent('ns/b', 'eu', (h) => (h === 30 ? 200 : 50))], nodes('eu', 10), start);
    expect(plans.map((p) => p.horizon)).toEqual(['7d', '30d', '90d']);
    const eu = plans[0]?.regions[0];
    // peak: 110 + 220 upper at hour 30 -> replicas 11 + 22
    expect(eu).toMatchObject({ region: 'eu', agents: 2, peakDemand: 330, peakAt: '2026-01-02T06:00:00Z', peakReplicas: 33, cpuCores: 33, nodesNeeded: 9, nodesAvailable: 10 });
    expect(eu?.meanDemand).toBeCloseTo(150 + 150 / 168, 2);
    // Mostly 11 + 6 replicas = 17 CPU = 5 nodes; one hour at 9 nodes.
    expect(eu?.cost).toBeCloseTo((167 * 5 + 9) * 0.5, 2);
    expect(eu?.carbonKg).toBeCloseTo((167 * 5 + 9) * 0.25 * 0.2, 2);
    expect(eu?.risks).toEqual([]);
  });

  it('reports when a growing peak outgrows the region and an agent its maxReplicas, with the dates', () => {
    const growing = agent('ns/g', 'us', (h) => 10 + h, 30);
    const [week, month] = capacityPlans([growing], nodes('us', 2), start, ['7d', '30d']);
    expect(week?.regions[0]?.risks.map((r) => r.kind)).toEqual(['CapacityShortfall']);
    // upper = 1.1 (10 + h) needs 9 replicas = 9 CPU > 2 nodes x 4 once 1.1 (10 + h) > 80: h >= 63; more than 30 replicas once h >= 263
    expect(week?.regions[0]?.risks[0]?.date).toBe('2026-01-03T15:00:00Z');
    const risks = month?.regions[0]?.risks ?? [];
    expect(risks.find((r) => r.kind === 'MaxReplicas')).toMatchObject({ agent: 'ns/g', date: '2026-01-11T23:00:00Z' });
  });

  it('measures daily growth and parses CPU quantities', () => {
    const perDay = 24;
    const values = Array.from({ length: 14 * perDay }, (_, i) => 100 * (1 + 0.02 * Math.floor(i / perDay)));
    expect(dailyGrowth(values, HOUR)).toBeGreaterThan(0.015);
    expect(dailyGrowth(values.slice(0, 3 * perDay), HOUR)).toBe(0);
    expect(cpuCores('500m', 0)).toBe(0.5);
    expect(cpuCores('2', 0)).toBe(2);
    expect(cpuCores('lots', 0.1)).toBe(0.1);
  });
});
