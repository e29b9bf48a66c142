// Agent: an AI agent that joins a Mesh. The descriptive part follows the A2A AgentCard
// (name, description, skills, capabilities, url, provider, version); the rest is what the
// scheduler, trust, healing and discovery modules need.
import { Type } from '@sinclair/typebox';
import {
  API_VERSION,
  bool,
  CURRENCY_CODE,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  ENV_VAR_NAME,
  HTTP_URL,
  MESH_DID,
  QUANTITY,
  dateTime,
  freeObject,
  int,
  intOrString,
  keyedList,
  list,
  num,
  obj,
  optional,
  str,
  stringEnum,
  stringMap,
  stringSet,
  withRules,
} from './common.js';
import { ObjectMetaSchema, conditionsField, observedGenerationField } from './meta.js';

export const AGENT_PHASES = ['Pending', 'Progressing', 'Ready', 'Degraded', 'Failed', 'Quarantined'] as const;

const SkillSchema = obj('A skill the agent offers, as in the A2A AgentCard.', {
  id: str('Identifier of the skill, unique within the agent (for example translate-legal).', {
    minLength: 1,
    maxLength: 128,
  }),
  name: optional(str('Human-readable name of the skill.', { maxLength: 200 })),
  description: optional(str('What the skill does; used by semantic discovery.', { maxLength: 2000 })),
  tags: optional(stringSet('Keywords for discovery (for example legal, contracts).', { maxLength: 64 }, { maxItems: 32 })),
  examples: optional(
    list('Example requests the skill handles, in natural language.', Type.String({ maxLength: 1000 }), { maxItems: 16 }),
  ),
  inputModes: optional(stringSet('Media types the skill accepts (for example text/plain).', { maxLength: 128 }, { maxItems: 16 })),
  outputModes: optional(stringSet('Media types the skill produces (for example application/json).', { maxLength: 128 }, { maxItems: 16 })),
});

const quantityMap = (what: string) =>
  optional(
    stringMap(
      `${what} per resource name (cpu, memory, ...), as core/v1 quantities such as 100m or 128Mi.`,
      intOrString('A resource quantity.', { pattern: QUANTITY, maxLength: 64 }),
      { maxProperties: 16 },
    ),
  );

const EnvVarSchema = obj('An environment variable of the agent container.', {
  name: str('Name of the variable.', { minLength: 1, maxLength: 256, pattern: ENV_VAR_NAME }),
  value: optional(str('Value of the variable.', { maxLength: 32768 })),
});

const RuntimeSchema = withRules(
  obj('How the agent runs in the cluster: the container and its replicas. The operator creates a Deployment from it.', {
    image: str('Container image of the agent (for example registry.example.com/agents/translator:1.4).', {
      minLength: 1,
      maxLength: 1024,
    }),
    command: optional(list('Entrypoint override for the container.', Type.String({ maxLength: 4096 }), { maxItems: 64 })),
    args: optional(list('Arguments to the entrypoint.', Type.String({ maxLength: 4096 }), { maxItems: 64 })),
    replicas: optional(
      int('Desired number of replicas (0 or more); kubectl scale sets it. Default 1.', {
        minimum: 0,
        maximum: 10_000,
        default: 1,
      }),
    ),
    minReplicas: optional(int('Lowest replica count autoscaling may choose.', { minimum: 0, maximum: 10_000 })),
    maxReplicas: optional(int('Highest replica count autoscaling may choose.', { minimum: 0, maximum: 10_000 })),
    resources: optional(
      obj('Compute resources of each replica, as in core/v1 ResourceRequirements.', {
        requests: quantityMap('Resources reserved'),
        limits: quantityMap('Upper bounds'),
      }),
    ),
    port: optional(int('Port the agent serves on inside the container (1-65535).', { minimum: 1, maximum: 65535 })),
    env: optional(keyedList('Environment variables of the container, unique by name.', 'name', EnvVarSchema, { maxItems: 128 })),
  }),
  [
    {
      rule: '!has(self.minReplicas) || !has(self.replicas) || self.minReplicas <= self.replicas',
      message: 'spec.runtime.replicas must be >= spec.runtime.minReplicas',
      fieldPath: '.replicas',
      check: (self) => self.minReplicas === undefined || self.replicas === undefined || self.minReplicas <= self.replicas,
    },
    {
      rule: '!has(self.maxReplicas) || !has(self.replicas) || self.replicas <= self.maxReplicas',
      message: 'spec.runtime.replicas must be <= spec.runtime.maxReplicas',
      fieldPath: '.replicas',
      check: (self) => self.maxReplicas === undefined || self.replicas === undefined || self.replicas <= self.maxReplicas,
    },
    {
      rule: '!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas',
      message: 'spec.runtime.minReplicas must be <= spec.runtime.maxReplicas',
      fieldPath: '.minReplicas',
      check: (self) =>
        self.minReplicas === undefined || self.maxReplicas === undefined || self.minReplicas <= self.maxReplicas,
    },
  ],
);

export const DEMAND_SOURCES = ['Scrape', 'Push'] as const;

const AutoscalingSchema = withRules(
  obj(
    "Demand-driven replica autoscaling of this agent: the forecasting module learns the agent's request rate and sets spec.runtime.replicas within minReplicas..maxReplicas.",
    {
      enabled: optional(bool('Turn demand-driven autoscaling on for this agent. Default false.', { default: false })),
      predictive: optional(
        bool("Scale ahead of forecast demand; false scales on current demand only. Unset follows the Mesh's spec.autoscaling.predictive."),
      ),
      capacityPerReplica: optional(
        num('Requests per second one replica serves within its SLA; replicas = forecast demand / this (greater than 0). Required when enabled.', {
          exclusiveMinimum: 0,
        }),
      ),
      source: optional(
        stringEnum(
          'Where demand comes from: Scrape (the operator reads a Prometheus-format metric from the pods) or Push (samples are pushed to the operator\'s demand API). Default Scrape.',
          DEMAND_SOURCES,
        ),
      ),
      metric: optional(
        obj('The Prometheus-format metric the operator scrapes from each pod.', {
          name: str('Metric name, such as http_requests_total (a counter: its rate is the demand) or a gauge of requests per second.', {
            minLength: 1,
            maxLength: 200,
            pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$',
          }),
          selector: optional(
            stringMap('Label values a sample must have to count, such as {route: /api}; samples of all matching series are summed.', Type.String({ maxLength: 256 }), {
              maxProperties: 16,
            }),
          ),
          type: optional(stringEnum('counter (demand is its rate) or gauge (demand is its value). Default counter.', ['counter', 'gauge'] as const)),
          port: optional(int('Port serving the metrics (1-65535). Default spec.runtime.port, else 9090.', { minimum: 1, maximum: 65535 })),
          path: optional(str('HTTP path of the metrics. Default /metrics.', { maxLength: 256, pattern: '^/' })),
        }),
      ),
      intervalSeconds: optional(
        int('Seconds between demand samples (scrapes, and the step of the stored history), 10-3600. Default 60.', { minimum: 10, maximum: 3600, default: 60 }),
      ),
      seasonSeconds: optional(
        int('Length of the demand cycle in seconds, if known (such as 86400); unset tries daily and weekly. At least 2 intervals.', { minimum: 20, maximum: 31_536_000 }),
      ),
      quantile: optional(
        num('Forecast quantile provisioned for: higher means fewer SLA misses at more cost (0.5-0.999). Default 0.9.', { minimum: 0.5, maximum: 0.999, default: 0.9 }),
      ),
      leadTimeSeconds: optional(
        int('How long a new replica takes to serve; the scaler provisions for the forecast over this window (0-3600). Default 600.', { minimum: 0, maximum: 3600, default: 600 }),
      ),
      scaleDownStabilizationSeconds: optional(
        int('Scale down only to the highest recommendation of this window, as the HPA does (0-3600). Default 300.', { minimum: 0, maximum: 3600, default: 300 }),
      ),
    },
  ),
  [
    {
      rule: '!has(self.enabled) || !self.enabled || has(self.capacityPerReplica)',
      message: 'spec.autoscaling.capacityPerReplica is required when spec.autoscaling.enabled is true',
      fieldPath: '.capacityPerReplica',
      check: (self) => self.enabled !== true || self.capacityPerReplica !== undefined,
    },
    {
      rule: "!has(self.enabled) || !self.enabled || (has(self.source) && self.source == 'Push') || has(self.metric)",
      message: 'spec.autoscaling.metric is required when autoscaling is enabled with source Scrape',
      fieldPath: '.metric',
      check: (self) => self.enabled !== true || self.source === 'Push' || self.metric !== undefined,
    },
  ],
);

export const AgentSpecSchema = obj('Desired state of the Agent: its card, its commercial terms and its runtime.', {
  meshRef: str('Name of the Mesh this agent joins (a DNS-1123 subdomain).', {
    minLength: 1,
    maxLength: 253,
    pattern: DNS1123_SUBDOMAIN,
  }),
  displayName: optional(str('Human-readable name of the agent (A2A AgentCard name).', { maxLength: 200 })),
  description: str('What the agent does (1-2000 characters); used by semantic discovery.', {
    minLength: 1,
    maxLength: 2000,
  }),
  version: optional(str('Version of the agent, such as 1.4.2.', { maxLength: 64 })),
  url: optional(str('Endpoint URL where the agent is reachable (http or https).', { maxLength: 2048, pattern: HTTP_URL })),
  provider: optional(
    obj('Organisation that provides the agent.', {
      organization: str('Name of the organisation.', { minLength: 1, maxLength: 200 }),
      url: optional(str('Website of the organisation (http or https).', { maxLength: 2048, pattern: HTTP_URL })),
    }),
  ),
  skills: optional(keyedList('Skills the agent offers, unique by id.', 'id', SkillSchema, { maxItems: 64 })),
  capabilities: optional(
    stringSet('Protocol capabilities of the agent, such as streaming or push-notifications.', { maxLength: 64 }, { maxItems: 32 }),
  ),
  specializations: optional(
    stringSet('Domains the agent specialises in, such as climate-modelling or contract-law.', { maxLength: 128 }, { maxItems: 32 }),
  ),
  models: optional(stringSet('Models the agent uses, such as llama-3.1-70b.', { maxLength: 128 }, { maxItems: 16 })),
  certifications: optional(
    stringSet('Certifications the agent holds, such as ISO-27001 or SOC2-Type2; feed the credentials trust component.', { maxLength: 128 }, { maxItems: 32 }),
  ),
  region: optional(str('Region the agent must run in, such as eu-west-1 (a DNS-1123 label).', { maxLength: 63, pattern: DNS1123_LABEL })),
  pricing: optional(
    obj("Price of the agent's work.", {
      perQuery: optional(num('Price of one query, in currency (0 or more).', { minimum: 0 })),
      perHour: optional(num('Price of one replica-hour, in currency (0 or more).', { minimum: 0 })),
      currency: optional(str('ISO 4217 currency code, three upper-case letters such as USD. Default USD.', {
        pattern: CURRENCY_CODE,
        default: 'USD',
      })),
    }),
  ),
  sla: optional(
    obj('Service level the agent commits to; the healing and trust modules measure it.', {
      maxLatencyMs: optional(int('Maximum response latency, in milliseconds (1 or more).', { minimum: 1 })),
      uptimeTarget: optional(num('Availability target, in percent (0-100), such as 99.9.', { minimum: 0, maximum: 100 })),
    }),
  ),
  scheduling: optional(
    obj('How the Mesh OS scheduler places the replicas (read only when the Mesh uses meshos-scheduler).', {
      usersRegion: optional(
        str("Region the agent's users are in, such as eu-west; latency is measured from there. Default spec.region.", { maxLength: 63, pattern: DNS1123_LABEL }),
      ),
      minNodeTrust: optional(num('Nodes whose trust level (label meshos.dev/trust-level) is below this (0-100) are never chosen.', { minimum: 0, maximum: 100 })),
      spread: optional(bool('Replicas go to distinct nodes, across zones when possible (active-active failover). Default true.', { default: true })),
    }),
  ),
  runtime: RuntimeSchema,
  autoscaling: optional(AutoscalingSchema),
});

export const AgentStatusSchema = obj('Observed state of the Agent, written by the operator.', {
  observedGeneration: optional(observedGenerationField('Agent')),
  conditions: optional(conditionsField('Agent')),
  phase: optional(stringEnum('Lifecycle phase: Pending, Progressing, Ready, Degraded, Failed or Quarantined.', AGENT_PHASES)),
  replicas: optional(int('Replicas that exist (the scale subresource reads it).', { minimum: 0 })),
  readyReplicas: optional(int('Replicas that are ready to serve.', { minimum: 0 })),
  replicaSummary: optional(str('Ready and desired replicas as ready/desired, such as 2/3.', { maxLength: 32 })),
  selector: optional(str("Label selector of the agent's pods in string form (the scale subresource reads it).", { maxLength: 4096 })),
  nodes: optional(list("Nodes the agent's replicas run on.", Type.String({ maxLength: 253 }))),
  nodeSummary: optional(str('The nodes, comma-joined, for kubectl get.', { maxLength: 4096 })),
  trust: optional(
    obj('Trust score of the agent and its breakdown.', {
      score: optional(num('Trust score (0-100).', { minimum: 0, maximum: 100 })),
      components: optional(
        stringMap('Score (0-100) of each component (credentials, history, attestations, compliance, uptime).', Type.Number({ minimum: 0, maximum: 100 })),
      ),
      weightsVersion: optional(str('Version of the Mesh trust weights the score was computed with.', { maxLength: 128 })),
      updatedAt: optional(dateTime('When the score was last computed (RFC 3339).')),
    }),
  ),
  did: optional(str('Decentralised identifier issued to the agent.', { maxLength: 512 })),
  meshDid: optional(str('DID of the mesh the agent joined.', { maxLength: 253, pattern: MESH_DID })),
  workload: optional(
    obj('Objects the operator created for the agent.', {
      deployment: optional(str('Name of the Deployment running the replicas.', { maxLength: 253 })),
      service: optional(str('Name of the Service in front of the replicas.', { maxLength: 253 })),
    }),
  ),
  availability: optional(
    obj('Measured availability of the agent.', {
      uptimePercent: optional(num('Uptime over the SLA window, in percent (0-100).', { minimum: 0, maximum: 100 })),
      latencyP50Ms: optional(num('Median response latency, in milliseconds.', { minimum: 0 })),
      latencyP95Ms: optional(num('95th percentile response latency, in milliseconds.', { minimum: 0 })),
      lastHeartbeatTime: optional(dateTime('Last heartbeat received from any replica (RFC 3339).')),
    }),
  ),
  forecast: optional(freeObject('Demand forecast written by the forecasting module.')),
  revisions: optional(list('Revision history of changes the operator made to the agent, newest last.', freeObject('One revision.'))),
});

export const AgentSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION, { description: 'meshos.dev/v1alpha1' }),
    kind: Type.Literal('Agent', { description: 'Agent' }),
    metadata: ObjectMetaSchema,
    spec: AgentSpecSchema,
    status: optional(AgentStatusSchema),
  },
  {
    additionalProperties: false,
    description:
      'An Agent is an AI agent that joins a Mesh: its A2A-style card (description, skills, endpoint), its commercial terms (pricing, SLA) and how it runs (image, replicas, resources).',
  },
);
