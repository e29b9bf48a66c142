// Manifests shared by the unit tests (TypeScript mirror of the rules) and the integration
// test (the real API server): one bad manifest per rule, so both sides are held to the
// same table.

export type Manifest = Record<string, unknown>;

/** A manifest the API server must reject, and what its error must say. */
export interface BadManifestCase {
  name: string;
  manifest: Manifest;
  /** Substrings the API server's error must contain (the field and the rule). */
  expected: string[];
  /** Field path the TypeScript validator must report (validateResource). */
  field: string;
}

/** An update the API server must reject (transition rules). */
export interface BadUpdateCase {
  name: string;
  before: Manifest;
  after: Manifest;
  expected: string[];
  field: string;
}

type Patch = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
export function mergePatch<T>(target: T, patch: unknown): T {
  if (!isObject(patch)) return structuredClone(patch) as T;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result as T;
}

export function validMesh(name: string): Manifest {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Mesh',
    metadata: { name },
    spec: { did: `did:mesh:test:${name}` },
  };
}

export function validAgent(name: string, namespace: string): Manifest {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Agent',
    metadata: { name, namespace },
    spec: {
      meshRef: 'demo',
      description: 'Summarises support tickets.',
      skills: [{ id: 'summarise', name: 'Summarise', tags: ['support'] }],
      runtime: {
        image: 'registry.k8s.io/pause:3.10',
        replicas: 1,
        resources: { requests: { cpu: '10m', memory: '16Mi' } },
      },
    },
  };
}

export function validProposal(name: string, namespace: string): Manifest {
  return {
    apiVersion: 'meshos.dev/v1alpha1',
    kind: 'Proposal',
    metadata: { name, namespace },
    spec: {
      meshRef: 'demo',
      title: 'Raise the uptime weight',
      proposer: { did: 'did:ethr:0x70997970C51812dc3A010C7d01b50e0d17dc79C8', kind: 'human' },
      change: { patch: { spec: { trust: { weights: { credentials: 25, uptime: 15 } } } } },
    },
  };
}

/**
 * The bad-manifest table. Object names are `<prefix>-<n>` so a run can label and clean
 * them up; namespaced kinds go into `namespace`.
 */
export function badManifestCases(prefix: string, namespace: string): BadManifestCase[] {
  let counter = 0;
  const nextName = () => `${prefix}-${++counter}`;
  const mesh = (spec: Patch) => mergePatch(validMesh(nextName()), { spec });
  const agent = (spec: Patch) => mergePatch(validAgent(nextName(), namespace), { spec });
  const proposal = (spec: Patch) => mergePatch(validProposal(nextName(), namespace), { spec });
  const runtime = (fields: Patch) => agent({ runtime: fields });

  return [
    // ---- Mesh ------------------------------------------------------------------------
    {
      name: 'mesh did with one segment',
      manifest: mesh({ did: 'did:mesh:acme' }),
      expected: ['spec.did', 'should match'],
      field: 'spec.did',
    },
    {
      name: 'mesh did with upper-case letters',
      manifest: mesh({ did: 'did:mesh:Acme:prod' }),
      expected: ['spec.did', 'should match'],
      field: 'spec.did',
    },
    {
      name: 'mesh did of another method',
      manifest: mesh({ did: 'did:web:acme.example' }),
      expected: ['spec.did', 'should match'],
      field: 'spec.did',
    },
    {
      name: 'trust weights not summing to 100',
      manifest: mesh({ trust: { weights: { credentials: 40 } } }),
      expected: ['spec.trust.weights: credentials+history+attestations+compliance+uptime must sum to 100'],
      field: 'spec.trust.weights',
    },
    {
      name: 'trust weight above 100',
      manifest: mesh({ trust: { weights: { credentials: 101, history: 0, attestations: 0, compliance: 0, uptime: 0 } } }),
      expected: ['spec.trust.weights.credentials', 'less than or equal to 100'],
      field: 'spec.trust.weights.credentials',
    },
    {
      name: 'trust weight not an integer',
      manifest: mesh({ trust: { weights: { credentials: 30.5 } } }),
      expected: ['spec.trust.weights.credentials', 'integer'],
      field: 'spec.trust.weights.credentials',
    },
    {
      name: 'trust transition period not a duration',
      manifest: mesh({ trust: { transitionPeriod: '1 day' } }),
      expected: ['spec.trust.transitionPeriod', 'should match'],
      field: 'spec.trust.transitionPeriod',
    },
    {
      name: 'all scheduling objectives zero',
      manifest: mesh({ scheduling: { objectives: { cost: 0, latency: 0, trust: 0, carbon: 0 } } }),
      expected: ['spec.scheduling.objectives: at least one of cost, latency, trust, carbon must be greater than 0'],
      field: 'spec.scheduling.objectives',
    },
    {
      name: 'negative scheduling objective',
      manifest: mesh({ scheduling: { objectives: { cost: -1 } } }),
      expected: ['spec.scheduling.objectives.cost', 'greater than or equal to 0'],
      field: 'spec.scheduling.objectives.cost',
    },
    {
      name: 'scheduler name not DNS-1123',
      manifest: mesh({ scheduling: { schedulerName: 'Mesh_Scheduler' } }),
      expected: ['spec.scheduling.schedulerName', 'should match'],
      field: 'spec.scheduling.schedulerName',
    },
    {
      name: 'min trust score above 100',
      manifest: mesh({ scheduling: { minTrustScore: 101 } }),
      expected: ['spec.scheduling.minTrustScore', 'less than or equal to 100'],
      field: 'spec.scheduling.minTrustScore',
    },
    {
      name: 'heartbeat timeout of 0',
      manifest: mesh({ healing: { heartbeatTimeoutSeconds: 0 } }),
      expected: ['spec.healing.heartbeatTimeoutSeconds', 'greater than or equal to 1'],
      field: 'spec.healing.heartbeatTimeoutSeconds',
    },
    {
      name: 'heartbeat timeout above 600',
      manifest: mesh({ healing: { heartbeatTimeoutSeconds: 601 } }),
      expected: ['spec.healing.heartbeatTimeoutSeconds', 'less than or equal to 600'],
      field: 'spec.healing.heartbeatTimeoutSeconds',
    },
    {
      name: 'unknown failover mode',
      manifest: mesh({ healing: { failoverMode: 'HotStandby' } }),
      expected: ['spec.healing.failoverMode', 'Unsupported value: "HotStandby"', '"ActiveActive", "ActivePassive"'],
      field: 'spec.healing.failoverMode',
    },
    {
      name: 'max unhealthy percent above 100',
      manifest: mesh({ healing: { maxUnhealthyPercent: 150 } }),
      expected: ['spec.healing.maxUnhealthyPercent', 'less than or equal to 100'],
      field: 'spec.healing.maxUnhealthyPercent',
    },
    {
      name: 'quarantine threshold below 0',
      manifest: mesh({ healing: { quarantineTrustThreshold: -5 } }),
      expected: ['spec.healing.quarantineTrustThreshold', 'greater than or equal to 0'],
      field: 'spec.healing.quarantineTrustThreshold',
    },
    {
      name: 'forecast horizon above a week',
      manifest: mesh({ autoscaling: { horizonHours: 169 } }),
      expected: ['spec.autoscaling.horizonHours', 'less than or equal to 168'],
      field: 'spec.autoscaling.horizonHours',
    },
    {
      name: 'predictive autoscaling not a boolean',
      manifest: mesh({ autoscaling: { predictive: 'yes' } }),
      expected: ['spec.autoscaling.predictive', 'boolean'],
      field: 'spec.autoscaling.predictive',
    },
    {
      name: 'human and AI weights not summing to 100',
      manifest: mesh({ governance: { humanWeight: 70 } }),
      expected: ['spec.governance: humanWeight+aiWeight must sum to 100'],
      field: 'spec.governance',
    },
    {
      name: 'approval threshold of exactly 50',
      manifest: mesh({ governance: { approvalThreshold: 50 } }),
      expected: ['spec.governance.approvalThreshold', 'greater than 50'],
      field: 'spec.governance.approvalThreshold',
    },
    {
      name: 'veto threshold above 100',
      manifest: mesh({ governance: { vetoThreshold: 101 } }),
      expected: ['spec.governance.vetoThreshold', 'less than or equal to 100'],
      field: 'spec.governance.vetoThreshold',
    },
    {
      name: 'quorum above 100',
      manifest: mesh({ governance: { quorumPercent: 120 } }),
      expected: ['spec.governance.quorumPercent', 'less than or equal to 100'],
      field: 'spec.governance.quorumPercent',
    },
    {
      name: 'voting period in days',
      manifest: mesh({ governance: { votingPeriod: '3d' } }),
      expected: ['spec.governance.votingPeriod', 'should match'],
      field: 'spec.governance.votingPeriod',
    },
    {
      name: 'voting period of zero',
      manifest: mesh({ governance: { votingPeriod: '0h' } }),
      expected: ['spec.governance.votingPeriod must be a positive duration'],
      field: 'spec.governance.votingPeriod',
    },
    {
      name: 'voter id neither address nor DID',
      manifest: mesh({ governance: { voters: [{ id: '0x1234' }] } }),
      expected: ['spec.governance.voters[0].id', 'should match'],
      field: 'spec.governance.voters[0].id',
    },
    {
      name: 'voter without id',
      manifest: mesh({ governance: { voters: [{ group: 'council' }] } }),
      expected: ['spec.governance.voters[0].id', 'Required value'],
      field: 'spec.governance.voters[0].id',
    },
    {
      name: 'unknown voter group',
      manifest: mesh({ governance: { voters: [{ id: 'did:ethr:0xabc', group: 'board' }] } }),
      expected: ['spec.governance.voters[0].group', 'Unsupported value: "board"'],
      field: 'spec.governance.voters[0].group',
    },
    {
      name: 'voter weight of zero',
      manifest: mesh({ governance: { voters: [{ id: 'did:ethr:0xabc', weight: 0 }] } }),
      expected: ['spec.governance.voters[0].weight', 'greater than 0'],
      field: 'spec.governance.voters[0].weight',
    },
    {
      name: 'duplicate voter id',
      manifest: mesh({ governance: { voters: [{ id: 'did:ethr:0xabc' }, { id: 'did:ethr:0xabc', weight: 2 }] } }),
      expected: ['spec.governance.voters[1]', 'Duplicate value'],
      field: 'spec.governance.voters[1]',
    },
    {
      name: 'risk ceiling above 1',
      manifest: mesh({ policy: { riskCeiling: 1.5 } }),
      expected: ['spec.policy.riskCeiling', 'less than or equal to 1'],
      field: 'spec.policy.riskCeiling',
    },
    {
      name: 'unknown approval mode',
      manifest: mesh({ policy: { approvalMode: 'Anyone' } }),
      expected: ['spec.policy.approvalMode', 'Unsupported value: "Anyone"'],
      field: 'spec.policy.approvalMode',
    },
    {
      name: 'negative replicas added per hour',
      manifest: mesh({ policy: { maxReplicasAddedPerHour: -1 } }),
      expected: ['spec.policy.maxReplicasAddedPerHour', 'greater than or equal to 0'],
      field: 'spec.policy.maxReplicasAddedPerHour',
    },
    {
      name: 'quiet hours not HH:MM',
      manifest: mesh({ policy: { quietHours: [{ start: '10pm', end: '06:00' }] } }),
      expected: ['spec.policy.quietHours[0].start', 'should match'],
      field: 'spec.policy.quietHours[0].start',
    },
    {
      name: 'misspelt mesh field',
      manifest: mesh({ scheduling: { objective: { cost: 1 } } }),
      expected: ['unknown field "spec.scheduling.objective"'],
      field: 'spec.scheduling.objective',
    },
    // ---- Agent -----------------------------------------------------------------------
    {
      name: 'agent without meshRef',
      manifest: agent({ meshRef: null }),
      expected: ['spec.meshRef', 'Required value'],
      field: 'spec.meshRef',
    },
    {
      name: 'agent meshRef not a DNS-1123 name',
      manifest: agent({ meshRef: 'Demo_Mesh' }),
      expected: ['spec.meshRef', 'should match'],
      field: 'spec.meshRef',
    },
    {
      name: 'agent without description',
      manifest: agent({ description: null }),
      expected: ['spec.description', 'Required value'],
      field: 'spec.description',
    },
    {
      name: 'agent with empty description',
      manifest: agent({ description: '' }),
      expected: ['spec.description', 'at least 1 chars long'],
      field: 'spec.description',
    },
    {
      name: 'agent description above 2000 characters',
      manifest: agent({ description: 'x'.repeat(2001) }),
      expected: ['spec.description', 'Too long', '2000'],
      field: 'spec.description',
    },
    {
      name: 'agent endpoint not http(s)',
      manifest: agent({ url: 'ftp://agents.example.com/translator' }),
      expected: ['spec.url', 'should match'],
      field: 'spec.url',
    },
    {
      name: 'skill without id',
      manifest: agent({ skills: [{ name: 'Translate' }] }),
      expected: ['spec.skills[0].id', 'Required value'],
      field: 'spec.skills[0].id',
    },
    {
      name: 'duplicate skill id',
      manifest: agent({ skills: [{ id: 'translate' }, { id: 'translate', name: 'Again' }] }),
      expected: ['spec.skills[1]', 'Duplicate value'],
      field: 'spec.skills[1]',
    },
    {
      name: 'duplicate skill tag',
      manifest: agent({ skills: [{ id: 'translate', tags: ['legal', 'legal'] }] }),
      expected: ['spec.skills[0].tags[1]', 'Duplicate value'],
      field: 'spec.skills[0].tags[1]',
    },
    {
      name: 'duplicate certification',
      manifest: agent({ certifications: ['ISO-27001', 'ISO-27001'] }),
      expected: ['spec.certifications[1]', 'Duplicate value'],
      field: 'spec.certifications[1]',
    },
    {
      name: 'region with spaces',
      manifest: agent({ region: 'EU West' }),
      expected: ['spec.region', 'should match'],
      field: 'spec.region',
    },
    {
      name: 'currency in lower case',
      manifest: agent({ pricing: { perQuery: 0.1, currency: 'usd' } }),
      expected: ['spec.pricing.currency', 'should match'],
      field: 'spec.pricing.currency',
    },
    {
      name: 'negative price per query',
      manifest: agent({ pricing: { perQuery: -0.01 } }),
      expected: ['spec.pricing.perQuery', 'greater than or equal to 0'],
      field: 'spec.pricing.perQuery',
    },
    {
      name: 'SLA latency of 0 ms',
      manifest: agent({ sla: { maxLatencyMs: 0 } }),
      expected: ['spec.sla.maxLatencyMs', 'greater than or equal to 1'],
      field: 'spec.sla.maxLatencyMs',
    },
    {
      name: 'SLA latency not an integer',
      manifest: agent({ sla: { maxLatencyMs: 12.5 } }),
      expected: ['spec.sla.maxLatencyMs', 'integer'],
      field: 'spec.sla.maxLatencyMs',
    },
    {
      name: 'SLA uptime above 100',
      manifest: agent({ sla: { uptimeTarget: 100.5 } }),
      expected: ['spec.sla.uptimeTarget', 'less than or equal to 100'],
      field: 'spec.sla.uptimeTarget',
    },
    {
      name: 'agent without runtime',
      manifest: agent({ runtime: null }),
      expected: ['spec.runtime', 'Required value'],
      field: 'spec.runtime',
    },
    {
      name: 'runtime without image',
      manifest: runtime({ image: null }),
      expected: ['spec.runtime.image', 'Required value'],
      field: 'spec.runtime.image',
    },
    {
      name: 'negative replicas',
      manifest: runtime({ replicas: -1 }),
      expected: ['spec.runtime.replicas', 'greater than or equal to 0'],
      field: 'spec.runtime.replicas',
    },
    {
      name: 'replicas above maxReplicas',
      manifest: runtime({ replicas: 5, maxReplicas: 3 }),
      expected: ['spec.runtime.replicas must be <= spec.runtime.maxReplicas'],
      field: 'spec.runtime.replicas',
    },
    {
      name: 'replicas below minReplicas',
      manifest: runtime({ replicas: 1, minReplicas: 2 }),
      expected: ['spec.runtime.replicas must be >= spec.runtime.minReplicas'],
      field: 'spec.runtime.replicas',
    },
    {
      name: 'minReplicas above maxReplicas',
      manifest: runtime({ replicas: 3, minReplicas: 4, maxReplicas: 2 }),
      expected: ['spec.runtime.minReplicas must be <= spec.runtime.maxReplicas'],
      field: 'spec.runtime.minReplicas',
    },
    {
      name: 'port out of range',
      manifest: runtime({ port: 70000 }),
      expected: ['spec.runtime.port', 'less than or equal to 65535'],
      field: 'spec.runtime.port',
    },
    {
      name: 'resource quantity that is not a quantity',
      manifest: runtime({ resources: { requests: { cpu: 'one core' } } }),
      expected: ['spec.runtime.resources.requests.cpu', 'should match'],
      field: 'spec.runtime.resources.requests.cpu',
    },
    {
      name: 'duplicate environment variable',
      manifest: runtime({ env: [{ name: 'MODE', value: 'a' }, { name: 'MODE', value: 'b' }] }),
      expected: ['spec.runtime.env[1]', 'Duplicate value'],
      field: 'spec.runtime.env[1]',
    },
    {
      name: 'misspelt agent field',
      manifest: agent({ skils: [] }),
      expected: ['unknown field "spec.skils"'],
      field: 'spec.skils',
    },
    // ---- Proposal ----------------------------------------------------------------------
    {
      name: 'proposal without title',
      manifest: proposal({ title: null }),
      expected: ['spec.title', 'Required value'],
      field: 'spec.title',
    },
    {
      name: 'proposal title above 200 characters',
      manifest: proposal({ title: 't'.repeat(201) }),
      expected: ['spec.title', 'Too long', '200'],
      field: 'spec.title',
    },
    {
      name: 'proposal without meshRef',
      manifest: proposal({ meshRef: null }),
      expected: ['spec.meshRef', 'Required value'],
      field: 'spec.meshRef',
    },
    {
      name: 'proposer kind neither human nor ai',
      manifest: proposal({ proposer: { kind: 'robot' } }),
      expected: ['spec.proposer.kind', 'Unsupported value: "robot"', '"human", "ai"'],
      field: 'spec.proposer.kind',
    },
    {
      name: 'proposer without DID',
      manifest: proposal({ proposer: { did: null } }),
      expected: ['spec.proposer.did', 'Required value'],
      field: 'spec.proposer.did',
    },
    {
      name: 'proposer DID that is not a DID',
      manifest: proposal({ proposer: { did: 'alice@example.com' } }),
      expected: ['spec.proposer.did', 'should match'],
      field: 'spec.proposer.did',
    },
    {
      name: 'proposal without change',
      manifest: proposal({ change: null }),
      expected: ['spec.change', 'Required value'],
      field: 'spec.change',
    },
    {
      name: 'proposal patch that is not an object',
      manifest: proposal({ change: { patch: 'set the weights to 25/20/20/20/15' } }),
      expected: ['spec.change.patch', 'object'],
      field: 'spec.change.patch',
    },
    {
      name: 'proposal critical flag not a boolean',
      manifest: proposal({ critical: 'yes' }),
      expected: ['spec.critical', 'boolean'],
      field: 'spec.critical',
    },
    {
      name: 'proposal voting period in days',
      manifest: proposal({ votingPeriod: '3d' }),
      expected: ['spec.votingPeriod', 'should match'],
      field: 'spec.votingPeriod',
    },
    {
      name: 'proposal voting period of zero',
      manifest: proposal({ votingPeriod: '0s' }),
      expected: ['spec.votingPeriod must be a positive duration'],
      field: 'spec.votingPeriod',
    },
  ];
}

/** Updates that must be rejected: what voters voted on cannot change. */
export function badUpdateCases(name: string, namespace: string): BadUpdateCase[] {
  const before = validProposal(name, namespace);
  const update = (spec: Patch) => mergePatch(before, { spec });
  return [
    {
      name: 'changing a proposal title',
      before,
      after: update({ title: 'Raise the uptime weight a lot' }),
      expected: ['spec.title is immutable: votes were cast on it'],
      field: 'spec.title',
    },
    {
      name: 'changing a proposal patch value',
      before,
      after: update({ change: { patch: { spec: { trust: { weights: { uptime: 20 } } } } } }),
      expected: ['spec.change is immutable: votes were cast on it'],
      field: 'spec.change',
    },
    {
      name: 'renaming a key of a proposal patch',
      before,
      after: update({ change: { patch: { spec: null, metadata: { trust: { weights: { credentials: 25, uptime: 15 } } } } } }),
      expected: ['spec.change is immutable: votes were cast on it'],
      field: 'spec.change',
    },
    {
      name: 'changing the proposer kind',
      before,
      after: update({ proposer: { kind: 'ai' } }),
      expected: ['spec.proposer is immutable: votes were cast on it'],
      field: 'spec.proposer',
    },
    {
      name: 'changing the proposer DID',
      before,
      after: update({ proposer: { did: 'did:ethr:0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' } }),
      expected: ['spec.proposer is immutable: votes were cast on it'],
      field: 'spec.proposer',
    },
    {
      name: 'moving a proposal to another mesh',
      before,
      after: update({ meshRef: 'other' }),
      expected: ['spec.meshRef is immutable: votes were cast on it'],
      field: 'spec.meshRef',
    },
  ];
}
