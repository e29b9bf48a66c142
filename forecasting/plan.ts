// Capacity plans: per region, what the Agents' forecast demand needs over 7, 30 and 90 days in
// replicas, CPU and nodes, what that costs and emits at current prices, and when it runs out.

export const PLAN_HORIZON_DAYS = { '7d': 7, '30d': 30, '90d': 90 } as const;
export type PlanHorizon = keyof typeof PLAN_HORIZON_DAYS;

const HOUR_MS = 3_600_000;

export interface AgentDemandForecast {
  /** namespace/name */
  key: string;
  region: string;
  /** Time of `point[0]`. */
  startMs: number;
  stepMs: number;
  /** Point and upper-quantile demand (requests/s) from `startMs`, covering the longest horizon. */
  point: readonly number[];
  upper: readonly number[];
  capacityPerReplica: number;
  minReplicas: number;
  maxReplicas: number;
  /** CPU cores each replica requests. */
  cpuPerReplica: number;
}

export interface NodeCapacity {
  region: string;
  cpu: number;
  costPerHour: number;
  /** gCO2e per kWh of the node's grid. */
  carbonIntensity: number;
  powerKw: number;
  ready: boolean;
}

export interface PlanRisk {
  kind: 'CapacityShortfall' | 'MaxReplicas' | 'NoHistory';
  message: string;
  date?: string;
  agent?: string;
}

export interface RegionPlan {
  region: string;
  agents: number;
  peakDemand: number;
  peakAt?: string;
  meanDemand: number;
  peakReplicas: number;
  meanReplicas: number;
  cpuCores: number;
  nodesNeeded: number;
  nodesAvailable: number;
  cost: number;
  carbonKg: number;
  risks: PlanRisk[];
}

export interface CapacityPlan {
  horizon: PlanHorizon;
  from: string;
  to: string;
  regions: RegionPlan[];
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Hourly mean of the point forecast and hourly max of the upper one, for `hours` hours from `fromMs`. */
function hourly(agent: AgentDemandForecast, fromMs: number, hours: number): { mean: number[]; peak: number[] } {
  const mean = new Array<number>(hours).fill(0);
  const peak = new Array<number>(hours).fill(0);
  const counts = new Array<number>(hours).fill(0);
  for (let i = 0; i < agent.point.length; i++) {
    const hour = Math.floor((agent.startMs + i * agent.stepMs - fromMs) / HOUR_MS);
    if (hour < 0 || hour >= hours) continue;
    mean[hour] = (mean[hour] ?? 0) + (agent.point[i] ?? 0);
    counts[hour] = (counts[hour] ?? 0) + 1;
    peak[hour] = Math.max(peak[hour] ?? 0, agent.upper[i] ?? agent.point[i] ?? 0);
  }
  // Hours beyond the forecast repeat its last hour: a plan never silently assumes zero demand.
  let last = -1;
  for (let h = 0; h < hours; h++) {
    if ((counts[h] ?? 0) > 0) {
      mean[h] = (mean[h] ?? 0) / (counts[h] ?? 1);
      last = h;
    } else if (last >= 0) {
      mean[h] = mean[last] ?? 0;
      peak[h] = peak[last] ?? 0;
    }
  }
  return { mean, peak };
}

/** Computes one plan per horizon and region from per-Agent forecasts and the nodes there now. */
export function capacityPlans(agents: readonly AgentDemandForecast[], nodes: readonly NodeCapacity[], nowMs: number, horizons: readonly PlanHorizon[] = ['7d', '30d', '90d']): CapacityPlan[] {
  const fromMs = Math.ceil(nowMs / HOUR_MS) * HOUR_MS;
  const regions = [...new Set(agents.map((a) => a.region))].sort();
  return horizons.map((horizon) => {
    const hours = PLAN_HORIZON_DAYS[horizon] * 24;
    return {
      horizon,
      from: iso(fromMs),
      to: iso(fromMs + hours * HOUR_MS),
      regions: regions.map((region) => regionPlan(region, agents.filter((a) => a.region === region), nodes, fromMs, hours)),
    };
  });
}

function regionPlan(region: string, agents: readonly AgentDemandForecast[], allNodes: readonly NodeCapacity[], fromMs: number, hours: number): RegionPlan {
  const nodes = allNodes.filter((n) => n.ready && (region === 'default' || n.region === region));
  const average = (pick: (n: NodeCapacity) => number, fallback: number): number => (nodes.length > 0 ? nodes.reduce((s, n) => s + pick(n), 0) / nodes.length : fallback);
  const nodeCpu = Math.max(average((n) => n.cpu, 1), 1e-3);
  const costPerHour = average((n) => n.costPerHour, 0);
  const kgPerNodeHour = average((n) => (n.powerKw * n.carbonIntensity) / 1000, 0);
  const demandMean = new Array<number>(hours).fill(0);
  const demandPeak = new Array<number>(hours).fill(0);
  const replicas = new Array<number>(hours).fill(0);
  const cpu = new Array<number>(hours).fill(0);
  const risks: PlanRisk[] = [];
  for (const agent of agents) {
    const { mean, peak } = hourly(agent, fromMs, hours);
    let maxRisked = false;
    for (let h = 0; h < hours; h++) {
      const needed = Math.ceil((peak[h] ?? 0) / agent.capacityPerReplica - 1e-9);
      if (needed > agent.maxReplicas && !maxRisked) {
        maxRisked = true;
        risks.push({ kind: 'MaxReplicas', agent: agent.key, date: iso(fromMs + h * HOUR_MS), message: `Agent ${agent.key} needs ${needed} replicas for a forecast ${round(peak[h] ?? 0)} requests/s, above its maxReplicas ${agent.maxReplicas}` });
      }
      const provisioned = Math.min(Math.max(needed, agent.minReplicas), Math.max(agent.maxReplicas, agent.minReplicas));
      demandMean[h] = (demandMean[h] ?? 0) + (mean[h] ?? 0);
      demandPeak[h] = (demandPeak[h] ?? 0) + (peak[h] ?? 0);
      replicas[h] = (replicas[h] ?? 0) + provisioned;
      cpu[h] = (cpu[h] ?? 0) + provisioned * agent.cpuPerReplica;
    }
  }
  let peakHour = 0;
  for (let h = 1; h < hours; h++) if ((demandPeak[h] ?? 0) > (demandPeak[peakHour] ?? 0)) peakHour = h;
  const nodesByHour = cpu.map((c) => Math.ceil(c / nodeCpu - 1e-9));
  const shortfall = nodesByHour.findIndex((n) => n > nodes.length);
  if (shortfall >= 0) {
    risks.push({
      kind: 'CapacityShortfall',
      date: iso(fromMs + shortfall * HOUR_MS),
      message: `Region ${region} needs ${nodesByHour[shortfall]} nodes (${round(cpu[shortfall] ?? 0)} CPU) but has ${nodes.length} ready`,
    });
  }
  risks.sort((a, b) => (a.date ?? '').localeCompare(b.date ?? ''));
  const maxCpuHour = cpu.reduce((best, c, h) => (c > (cpu[best] ?? 0) ? h : best), 0);
  return {
    region,
    agents: agents.length,
    peakDemand: round(demandPeak[peakHour] ?? 0),
    ...(hours > 0 ? { peakAt: iso(fromMs + peakHour * HOUR_MS) } : {}),
    meanDemand: round(demandMean.reduce((s, v) => s + v, 0) / Math.max(1, hours)),
    peakReplicas: Math.max(0, ...replicas),
    meanReplicas: round(replicas.reduce((s, v) => s + v, 0) / Math.max(1, hours), 2),
    cpuCores: round(cpu[maxCpuHour] ?? 0),
    nodesNeeded: Math.max(0, ...nodesByHour),
    nodesAvailable: nodes.length,
    cost: round(nodesByHour.reduce((s, n) => s + n * costPerHour, 0), 2),
    carbonKg: round(nodesByHour.reduce((s, n) => s + n * kgPerNodeHour, 0), 2),
    risks: risks.slice(0, 64),
  };
}

/**
 * Relative growth of demand per day: least-squares slope of daily means over the mean (needs
 * a week of history), clamped to ±5% a day so a noisy fit cannot blow up a 90-day plan.
 */
export function dailyGrowth(values: readonly number[], stepMs: number): number {
  const perDay = Math.max(1, Math.round(86_400_000 / stepMs));
  const days = Math.floor(values.length / perDay);
  if (days < 7) return 0;
  const means = Array.from({ length: days }, (_, d) => {
    let sum = 0;
    for (let i = 0; i < perDay; i++) sum += values[values.length - (days - d) * perDay + i] ?? 0;
    return sum / perDay;
  });
  const meanX = (days - 1) / 2;
  const meanY = means.reduce((s, v) => s + v, 0) / days;
  let numerator = 0;
  let denominator = 0;
  means.forEach((y, x) => {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  });
  if (meanY <= 0 || denominator === 0) return 0;
  return Math.max(-0.05, Math.min(0.05, numerator / denominator / meanY));
}

/** Parses a Kubernetes CPU quantity (`500m`, `2`, `1.5`) into cores. */
export function cpuCores(quantity: string | number | undefined, fallback: number): number {
  if (quantity === undefined) return fallback;
  if (typeof quantity === 'number') return quantity;
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity.trim());
  if (!match) return fallback;
  return Number(match[1]) / (match[2] === 'm' ? 1000 : 1);
}
