// npm run bench:kernel
// The kernel's costs, each beside a baseline measured in the same run:
// - policyCheckMicros: one action through the loop (policy gate, ledger, decision log) against
//   calling the module's execute directly;
// - trustRecomputeMs: trust scores of 10,000 Agents with evidence and a weights transition in
//   progress, against a bare weighted sum over precomputed components;
// - memory: the context-memory service (trust checks, AES-GCM, fsynced log) through a real gRPC
//   client, against a bare grpc-js Map server on the same proto.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Agent, Mesh } from '../crds/types.js';
import type { KernelModule, ModuleContext, ProposedAction } from '../kernel/contract.js';
import { DecisionLog } from '../kernel/decision-log.js';
import { KernelLoop } from '../kernel/loop.js';
import { benchBareGrpcMap, benchMemory } from '../kernel/memory/bench.js';
import { recomputeAll } from '../kernel/trust/recompute.js';
import { TRUST_EVIDENCE_ANNOTATION } from '../kernel/trust/score.js';
import { createLogger } from '../operator/log.js';

const { values } = parseArgs({
  options: {
    actions: { type: 'string', default: '50000' },
    agents: { type: 'string', default: '10000' },
    entries: { type: 'string', default: '5000' },
    'value-bytes': { type: 'string', default: '1024' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

async function policyOverhead(count: number): Promise<{ loopMicros: number; directMicros: number }> {
  let executed = 0;
  const module: KernelModule = {
    name: 'bench',
    observes: ['Agent'],
    actions: ['touch'],
    analyse: () => [],
    execute: () => {
      executed++;
      return Promise.resolve({ message: 'done' });
    },
  };
  const policy = { riskCeiling: 0.7, maxActionsPerMinute: 1_000_000, maxAutonomousAgentPercentPerHour: 100, maxReplicasAddedPerHour: 1_000_000, quietHours: [{ start: '03:00', end: '03:01' }] };
  const loop = new KernelLoop({
    modules: [module],
    context: { logger: createLogger({ level: 'silent' }) } as unknown as ModuleContext,
    log: new DecisionLog(10_000),
    policyFor: () => ({ policy, agentCount: 10_000 }),
  });
  const action = (i: number): ProposedAction => ({
    module: 'bench',
    kind: 'touch',
    target: { kind: 'Agent', name: `agent-${i % 10_000}`, namespace: 'bench', mesh: 'm' },
    reason: 'bench',
    risk: 0.1,
    verifyWindowMs: 0,
    replicasAdded: 1,
    params: {},
  });
  // Warm up both paths, then measure.
  for (let i = 0; i < 2000; i++) await loop.submit(action(i));
  let started = performance.now();
  for (let i = 0; i < count; i++) await loop.submit(action(i));
  const loopMicros = ((performance.now() - started) * 1000) / count;
  const context = {} as ModuleContext;
  started = performance.now();
  for (let i = 0; i < count; i++) await module.execute({ ...action(i), id: String(i), proposedAt: '' }, context);
  const directMicros = ((performance.now() - started) * 1000) / count;
  if (executed < count * 2) throw new Error(`only ${executed} actions executed: the policy blocked some, the benchmark is wrong`);
  return { loopMicros, directMicros };
}

function trustFleet(count: number): { agents: Agent[]; mesh: Mesh } {
  const now = Date.now();
  const agents = Array.from({ length: count }, (_, i) => ({
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Agent',
    status: { availability: { uptimePercent: 95 + (i % 5), latencyP95Ms: 100 + (i % 400) } },
    metadata: {
      name: `agent-${i}`,
      namespace: 'bench',
      annotations: {
        [TRUST_EVIDENCE_ANNOTATION]: JSON.stringify({
          verifiedCertifications: i % 3 === 0 ? ['ISO27001'] : [],
          incidents: Array.from({ length: i % 4 }, (_, k) => ({ at: new Date(now - k * 86_400_000).toISOString() })),
          attestations: [{ issuer: `did:mesh:org:peer-${i % 17}`, positive: i % 5 !== 0, weight: 1, at: new Date(now - 3_600_000).toISOString() }],
          violations: i % 7 === 0 ? [{ at: new Date(now - 7 * 86_400_000).toISOString(), severity: 1 }] : [],
        }),
      },
    },
    spec: {
      meshRef: 'bench',
      description: 'bench agent',
      certifications: ['ISO27001', 'SOC2'].slice(0, i % 3),
      sla: { maxLatencyMs: 300, uptimeTarget: 99 },
      runtime: { image: 'x', replicas: 1 },
    },
  })) as unknown as Agent[];
  const mesh = {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Mesh',
    metadata: { name: 'bench', uid: 'bench' },
    spec: { trust: { weights: { credentials: 25, history: 30, attestations: 20, compliance: 15, uptime: 10 }, transitionPeriod: '24h' } },
    status: {
      trust: {
        weights: { credentials: 30, history: 25, attestations: 20, compliance: 15, uptime: 10 },
        weightsVersion: 'w-old',
      },
    },
  } as unknown as Mesh;
  return { agents, mesh };
}

function trustTiming(count: number): { ms: number; baselineMs: number; agentsScored: number } {
  const { agents, mesh } = trustFleet(count);
  recomputeAll(agents.slice(0, 500), mesh, new Date()); // warm-up
  let started = performance.now();
  const { agents: scored } = recomputeAll(agents, mesh, new Date());
  const ms = performance.now() - started;
  // Baseline: the arithmetic floor, a weighted sum over five precomputed numbers per agent.
  const components = scored.map((a) => a.status.components);
  const weights = [0.25, 0.3, 0.2, 0.15, 0.1];
  started = performance.now();
  let checksum = 0;
  for (const c of components) {
    const values = Object.values(c as Record<string, number>);
    let score = 0;
    for (let k = 0; k < 5; k++) score += (values[k] ?? 0) * (weights[k] ?? 0);
    checksum += score;
  }
  const baselineMs = performance.now() - started;
  if (!(checksum > 0)) throw new Error('baseline produced no scores');
  return { ms, baselineMs, agentsScored: scored.length };
}

async function main(): Promise<void> {
  const actions = Number(values.actions);
  const agents = Number(values.agents);
  const memoryOptions = { entries: Number(values.entries), valueBytes: Number(values['value-bytes']) };

  const policy = await policyOverhead(actions);
  const trust = trustTiming(agents);
  const bare = await benchBareGrpcMap(memoryOptions);
  const memory = await benchMemory(memoryOptions);

  const result = {
    policyCheckMicros: round(policy.loopMicros),
    trustRecomputeMs: round(trust.ms),
    memory: { putPerSecond: Math.round(memory.putPerSecond), getPerSecond: Math.round(memory.getPerSecond), p99Ms: round(memory.p99Ms) },
    baselines: {
      policy: { name: 'module.execute called directly, no loop', micros: round(policy.directMicros, 3), overheadMicros: round(policy.loopMicros - policy.directMicros) },
      trust: { name: 'weighted sum over precomputed components', ms: round(trust.baselineMs, 3), ratio: round(trust.ms / Math.max(trust.baselineMs, 0.001)) },
      memory: {
        name: 'bare grpc-js Map server, same proto and client (no auth, no encryption, no fsync)',
        putPerSecond: Math.round(bare.putPerSecond),
        getPerSecond: Math.round(bare.getPerSecond),
        p99Ms: round(bare.p99Ms),
        putRatio: round(memory.putPerSecond / bare.putPerSecond),
        getRatio: round(memory.getPerSecond / bare.getPerSecond),
      },
    },
    parameters: { actions, agents: trust.agentsScored, ...memoryOptions },
  };
  await writeFile(join(root, 'bench/results/kernel.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(
    `kernel: policy gate + loop ${result.policyCheckMicros} µs/action (direct execute ${result.baselines.policy.micros} µs)\n` +
      `        trust for ${trust.agentsScored} agents ${result.trustRecomputeMs} ms (bare weighted sum ${result.baselines.trust.ms} ms)\n` +
      `        memory put ${result.memory.putPerSecond}/s get ${result.memory.getPerSecond}/s p99 ${result.memory.p99Ms} ms ` +
      `(bare gRPC Map: put ${result.baselines.memory.putPerSecond}/s get ${result.baselines.memory.getPerSecond}/s; ratios ${result.baselines.memory.putRatio} / ${result.baselines.memory.getRatio})\n` +
      'wrote bench/results/kernel.json\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:kernel failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
