// The forecasting kernel module: records each autoscaled Agent's demand (scraped or pushed),
// keeps it in a ConfigMap per Agent so a restart loses nothing, fits forecasting models off the
// reconcile path, proposes `scale` actions ahead of forecast peaks (the loop's policy gate decides
// and records them as Events), reserves capacity ahead of forecast peaks through the scheduler's
// Agent annotation (the same way), and writes forecasts to Agent status and capacity plans to Mesh status.
import type { Agent, Mesh } from '../crds/types.js';
import type { Action, ExecutionResult, KernelModule, ModuleContext, ProposedAction } from '../kernel/contract.js';
import { applyStatus, serverSideApply } from '../operator/kube/apply.js';
import { getErrorMessage, isNotFound } from '../operator/kube/errors.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources } from '../operator/kube/resources.js';
import { RESERVATION_TTL_MS, RESERVE_ANNOTATION, RESERVE_REFRESHED_ANNOTATION, annotationSetAt } from '../scheduler/scheduler.js';
import { DemandHistory, type EncodedHistory } from './demand/history.js';
import type { DemandSample, DemandSink } from './demand/push-server.js';
import { CounterRate, scrapeDemand, scrapeDue } from './demand/scrape.js';
import { disposeSelection, selectModel } from './forecaster.js';
import type { FittedModel } from './models/model.js';
import type { LstmOptions } from './models/lstm-spec.js';
import { capacityPlans, cpuCores, dailyGrowth, type AgentDemandForecast, type NodeCapacity } from './plan.js';
import { tuneHeadroom } from './replay.js';
import { annotationChange, plannedReservation, reservationNeedsRefresh } from './reservation.js';
import { clampReplicas, correctWindow, predictiveReplicas, reactiveReplicas, smoothedError, Stabiliser, windowUpper, type ErrorCorrection, type Headroom } from './scaling.js';

export const NAME = 'forecasting';
export const FORECASTING_FIELD_MANAGER = 'meshos-forecasting';
export const DEMAND_CONFIGMAP_PREFIX = 'meshos-demand-';
/** Node labels read for plans; the second name of each pair is the test harness's. */
export const NODE_LABELS = {
  region: ['meshos.dev/region', 'topology.kubernetes.io/region'],
  cost: ['meshos.dev/cost-per-hour', 'meshos.dev/cost'],
  carbon: ['meshos.dev/carbon-intensity', 'meshos.dev/carbon'],
  power: ['meshos.dev/power-kw'],
} as const;
const DEFAULT_NODE_POWER_KW = 0.25;
const REACTIVE_TARGET_UTILISATION = 0.8;

export interface ForecastingOptions {
  /** How often each Agent's models are refitted. Default 10 minutes. */
  trainIntervalMs?: number;
  /** How often capacity plans are recomputed. Default 15 minutes. */
  planIntervalMs?: number;
  /** How often changed histories are written to their ConfigMaps. Default 60 s. */
  persistIntervalMs?: number;
  /** History kept per Agent. Default 35 days (four weekly seasons and a bit). */
  maxHistoryDays?: number;
  /**
   * How far ahead a forecast peak reserves capacity through the scheduler (the Agent annotation
   * meshos.dev/reserve-replicas). Default: the scheduler's reservation lifetime, 15 minutes.
   */
  reservationHorizonMs?: number;
  /** The LSTM is off by default in the operator (the classical models fit in milliseconds). */
  lstm?: LstmOptions | false;
}

type AutoscalingSpec = NonNullable<Agent['spec']['autoscaling']>;

interface Fit {
  model: FittedModel;
  key: string;
  upperOffsets: number[];
  stepMs: number;
}

/** Time a leader spends writing unsaved histories as it steps down. */
const TEARDOWN_BUDGET_MS = 10_000;

/** Longest stretch of history the lead-window headroom is tuned on (bounded work per fit). */
const HEADROOM_TUNING_STEPS = 4000;

interface AgentState {
  history: DemandHistory;
  loaded: boolean;
  dirty: boolean;
  rate: CounterRate;
  lastScrapeMs: number;
  lastTrainMs: number;
  /** Fitted for the scaling lead window, with the headroom above its forecast peak (as the benchmark tunes it). */
  short?: Fit & { headroom: Headroom; quantile: number; correction: ErrorCorrection };
  /** Fitted for 24 hours, used for status and plans. */
  long?: Fit & { growthPerDay: number; dispose(): void };
  /** Upper forecasts issued per slot time, to see when actual demand beats them. */
  upperBySlot: Map<number, number>;
  stabiliser: Stabiliser;
  lastProposed?: { replicas: number; atMs: number };
  lastReservation?: { value: string | null; atMs: number };
}

const keyOf = (agent: Agent): string => `${agent.metadata.namespace ?? ''}/${agent.metadata.name ?? ''}`;

/** ConfigMap name for an Agent's demand history (Agent names are DNS subdomains; the prefix keeps it one). */
export function demandConfigMapName(agentName: string): string {
  return `${DEMAND_CONFIGMAP_PREFIX}${agentName}`.slice(0, 253).replace(/[-.]+$/, '');
}

function label(labels: Record<string, string> | undefined, names: readonly string[]): string | undefined {
  for (const name of names) if (labels?.[name] !== undefined) return labels[name];
  return undefined;
}

export interface ForecastingModule {
  module: KernelModule;
  /** The push API's sink (see demand/push-server.ts). */
  demand: DemandSink;
  /** Resolves when background work (fitting, persisting, plans) in flight has finished. */
  idle(): Promise<void>;
}

export function createForecastingModule(options: ForecastingOptions = {}): ForecastingModule {
  const trainIntervalMs = options.trainIntervalMs ?? 10 * 60_000;
  const planIntervalMs = options.planIntervalMs ?? 15 * 60_000;
  const persistIntervalMs = options.persistIntervalMs ?? 60_000;
  const maxHistoryMs = (options.maxHistoryDays ?? 35) * 86_400_000;
  const reservationHorizonMs = options.reservationHorizonMs ?? RESERVATION_TTL_MS;
  const states = new Map<string, AgentState>();
  let context: ModuleContext | undefined;
  let background: Promise<void> | undefined;
  let lastPersistMs = 0;
  let lastPlanMs = -Infinity;

  const autoscaled = (agent: Agent): agent is Agent & { spec: { autoscaling: AutoscalingSpec & { capacityPerReplica: number } } } =>
    agent.spec.autoscaling?.enabled === true && (agent.spec.autoscaling.capacityPerReplica ?? 0) > 0;
  const stepMsOf = (agent: Agent): number => (agent.spec.autoscaling?.intervalSeconds ?? 60) * 1000;
  const leadStepsOf = (agent: Agent): number => Math.max(1, Math.ceil(((agent.spec.autoscaling?.leadTimeSeconds ?? 600) * 1000) / stepMsOf(agent)));

  function stateOf(agent: Agent): AgentState {
    const key = keyOf(agent);
    const stepMs = stepMsOf(agent);
    let state = states.get(key);
    if (!state || state.history.stepMs !== stepMs) {
      state = {
        history: new DemandHistory(stepMs, Math.ceil(maxHistoryMs / stepMs)),
        loaded: false,
        dirty: false,
        rate: new CounterRate(),
        lastScrapeMs: 0,
        lastTrainMs: -Infinity,
        upperBySlot: new Map(),
        stabiliser: new Stabiliser((agent.spec.autoscaling?.scaleDownStabilizationSeconds ?? 300) * 1000),
      };
      states.set(key, state);
    }
    return state;
  }

  function record(state: AgentState, timeMs: number, value: number): void {
    state.history.record(timeMs, value);
    state.dirty = true;
  }

  /**
   * Loads the persisted history once; samples recorded before the load are kept on top of it. A
   * failed read is retried on the next analysis, and nothing is persisted until the load is done:
   * writing a history that missed the stored one would erase it.
   */
  async function ensureLoaded(ctx: ModuleContext, agent: Agent, state: AgentState): Promise<void> {
    if (state.loaded) return;
    try {
      const configMap = await ctx.client.get<KubeObject & { data?: Partial<EncodedHistory> }>(CoreResources.configMap, agent.metadata.namespace, demandConfigMapName(agent.metadata.name ?? ''));
      const stored = DemandHistory.decode(configMap.data ?? {}, state.history.stepMs, state.history.maxPoints);
      const fresh = state.history;
      const merged = stored;
      const values = fresh.series();
      const first = fresh.firstMs;
      if (first !== undefined) values.forEach((v, i) => merged.record(first + i * fresh.stepMs, v));
      state.history = merged;
      ctx.logger.info({ agent: keyOf(agent), points: merged.length }, `Loaded demand history of agent ${keyOf(agent)}`);
    } catch (error) {
      if (!isNotFound(error)) {
        ctx.logger.warn({ agent: keyOf(agent), error: getErrorMessage(error) }, 'Failed to load demand history; retrying at the next analysis');
        return;
      }
    }
    state.loaded = true;
  }

  async function persist(ctx: ModuleContext, agent: Agent, state: AgentState): Promise<void> {
    if (!state.loaded || !state.dirty || state.history.length === 0) return;
    state.dirty = false;
    try {
      await serverSideApply(
        ctx.client,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: demandConfigMapName(agent.metadata.name ?? ''),
            namespace: agent.metadata.namespace ?? '',
            labels: { 'app.kubernetes.io/managed-by': 'meshos', 'meshos.dev/agent': agent.metadata.name ?? '', 'meshos.dev/data': 'demand-history' },
            ownerReferences: [{ apiVersion: agent.apiVersion, kind: 'Agent', name: agent.metadata.name ?? '', uid: agent.metadata.uid ?? '', controller: false, blockOwnerDeletion: false }],
          },
          data: { ...state.history.encode() },
        } as KubeObject,
        FORECASTING_FIELD_MANAGER,
      );
    } catch (error) {
      state.dirty = true;
      ctx.logger.warn({ agent: keyOf(agent), error: getErrorMessage(error) }, 'Failed to persist demand history');
    }
  }

  /** Scrapes the Agent's pods when due; sums the matching samples; counters become a rate. */
  async function scrape(ctx: ModuleContext, agent: Agent, state: AgentState, nowMs: number): Promise<void> {
    const spec = agent.spec.autoscaling;
    if (!spec?.metric || spec.source === 'Push' || !scrapeDue(state.lastScrapeMs, nowMs, stepMsOf(agent))) return;
    state.lastScrapeMs = nowMs;
    const pods = (ctx.informers.pods?.store.list() ?? []).filter(
      (pod) => pod.metadata.namespace === agent.metadata.namespace && pod.metadata.labels?.['meshos.dev/agent'] === agent.metadata.name,
    ) as (KubeObject & { status?: { podIP?: string; phase?: string } })[];
    const port = spec.metric.port ?? agent.spec.runtime.port ?? 9090;
    const targets = pods
      .filter((pod) => pod.status?.podIP && pod.status.phase === 'Running')
      .map((pod) => ({ pod: pod.metadata.name ?? '', url: `http://${pod.status?.podIP ?? ''}:${port}${spec.metric?.path ?? '/metrics'}` }));
    const demand = await scrapeDemand(targets, { name: spec.metric.name, selector: spec.metric.selector ?? {}, type: spec.metric.type ?? 'counter' }, state.rate, nowMs, (target, error) =>
      ctx.logger.debug({ pod: target.pod, error: getErrorMessage(error) }, 'Failed to scrape pod metrics'),
    );
    if (demand !== undefined) record(state, nowMs, Math.max(0, demand));
  }

  /** Fits the lead-window and 24-hour models on the history (bounded: classical models, LSTM only if enabled with its time cap). */
  async function train(ctx: ModuleContext, agent: Agent, state: AgentState): Promise<void> {
    const series = state.history.series();
    const stepMs = state.history.stepMs;
    const leadSteps = leadStepsOf(agent);
    if (series.length < 4 * (leadSteps + 1) + 2) return;
    const seasonSeconds = agent.spec.autoscaling?.seasonSeconds;
    const season = seasonSeconds !== undefined ? Math.max(2, Math.round((seasonSeconds * 1000) / stepMs)) : undefined;
    const quantile = agent.spec.autoscaling?.quantile ?? 0.9;
    const usableSeason = season !== undefined && season < series.length / 2 ? { season } : {};
    const short = await selectModel(series, { stepMs, horizon: leadSteps + 1, evaluationOrigins: 0, lstm: false, quantile, ...usableSeason });
    // Headroom (quantile level, unless the Agent sets one, and scale) tuned as in the benchmark:
    // on recent history, within 1.1x the reactive policy's replica-hours there.
    const tuneStart = Math.max(1, Math.min(short.split.selectStart, series.length - Math.min(Math.floor(series.length / 2), HEADROOM_TUNING_STEPS)));
    const tuned = tuneHeadroom(series, short.selected.model, tuneStart, series.length, {
      stepMs,
      capacityPerReplica: Math.max(agent.spec.autoscaling?.capacityPerReplica ?? 1, Number.MIN_VALUE),
      leadMs: leadSteps * stepMs,
      stabilisationMs: (agent.spec.autoscaling?.scaleDownStabilizationSeconds ?? 300) * 1000,
      minReplicas: agent.spec.runtime.minReplicas ?? 1,
      maxReplicas: agent.spec.runtime.maxReplicas ?? 100,
      targetUtilisation: REACTIVE_TARGET_UTILISATION,
    }, { costBudget: 1.1, ...(agent.spec.autoscaling?.quantile !== undefined ? { quantiles: [agent.spec.autoscaling.quantile] } : {}) });
    state.short = { model: short.selected.model, key: short.selected.key, upperOffsets: short.upperOffsets, stepMs, headroom: tuned.headroom, quantile: tuned.quantile, correction: tuned.correction };
    // The 24-hour model reads at most 5-minute steps: a 90-day plan stays cheap to forecast.
    const factor = Math.max(1, Math.floor(300_000 / stepMs));
    const coarse = factor > 1 ? Array.from({ length: Math.floor(series.length / factor) }, (_, i) => series.slice(i * factor, (i + 1) * factor).reduce((s, v) => s + v, 0) / factor) : series;
    const coarseStep = stepMs * factor;
    const horizon = Math.max(1, Math.min(Math.round(86_400_000 / coarseStep), Math.floor(coarse.length / 4)));
    const coarseSeason = season !== undefined ? Math.max(2, Math.round(season / factor)) : undefined;
    if (coarse.length >= 2 * horizon + 2) {
      const long = await selectModel(coarse, {
        stepMs: coarseStep,
        horizon,
        evaluationOrigins: 0,
        lstm: options.lstm ?? false,
        quantile,
        ...(coarseSeason !== undefined && coarseSeason < coarse.length / 2 ? { season: coarseSeason } : {}),
      });
      state.long?.dispose(); // the previous fit's LSTM tensors, if the LSTM is on
      state.long = { model: long.selected.model, key: long.selected.key, upperOffsets: long.upperOffsets, stepMs: coarseStep, growthPerDay: dailyGrowth(coarse, coarseStep), dispose: () => disposeSelection(long) };
    }
    state.lastTrainMs = ctx.now().getTime();
    await writeForecastStatus(ctx, agent, state);
  }

  async function writeForecastStatus(ctx: ModuleContext, agent: Agent, state: AgentState): Promise<void> {
    const fit = state.long ?? state.short;
    const lastMs = state.history.lastMs;
    if (!fit || lastMs === undefined) return;
    const source = state.long ? coarseSeries(state) : state.history.series();
    const horizon = Math.max(1, Math.round(86_400_000 / fit.stepMs));
    const point = fit.model.forecastAt(source, [source.length], horizon)[0] ?? [];
    const upper = point.map((p, i) => p + (fit.upperOffsets[i % Math.max(1, fit.upperOffsets.length)] ?? 0));
    let peak = 0;
    upper.forEach((u, i) => (u > (upper[peak] ?? 0) ? (peak = i) : undefined));
    const startMs = forecastStartMs(state);
    const forecast = {
      model: fit.key,
      scalingModel: state.short?.key,
      trainedAt: ctx.now().toISOString(),
      stepSeconds: fit.stepMs / 1000,
      quantile: agent.spec.autoscaling?.quantile ?? 0.9,
      historyPoints: state.history.length,
      lastDemand: Math.round((state.history.series().at(-1) ?? 0) * 1000) / 1000,
      peak: { at: new Date(startMs + peak * fit.stepMs).toISOString(), demand: Math.round((point[peak] ?? 0) * 1000) / 1000, upper: Math.round((upper[peak] ?? 0) * 1000) / 1000 },
      next24hMean: Math.round((point.reduce((s, v) => s + v, 0) / Math.max(1, point.length)) * 1000) / 1000,
    };
    try {
      await applyStatus(ctx.client, MeshOsResources.agent, keyOf(agent), { forecast }, FORECASTING_FIELD_MANAGER);
    } catch (error) {
      ctx.logger.warn({ agent: keyOf(agent), error: getErrorMessage(error) }, 'Failed to write agent forecast status');
    }
  }

  /** Time of the first value the status/plan model forecasts (the coarse series drops a partial last block). */
  function forecastStartMs(state: AgentState): number {
    const first = state.history.firstMs ?? 0;
    const step = state.history.stepMs;
    if (!state.long) return first + state.history.length * step;
    const factor = Math.max(1, Math.floor(300_000 / step));
    return first + Math.floor(state.history.length / factor) * factor * step;
  }

  function coarseSeries(state: AgentState): number[] {
    const series = state.history.series();
    const factor = Math.max(1, Math.floor(300_000 / state.history.stepMs));
    if (factor === 1) return series;
    return Array.from({ length: Math.floor(series.length / factor) }, (_, i) => series.slice(i * factor, (i + 1) * factor).reduce((s, v) => s + v, 0) / factor);
  }

  /** Writes plans for every Mesh with forecasts; returns how many Meshes had some. */
  async function writePlans(ctx: ModuleContext, agents: readonly Agent[]): Promise<number> {
    const nowMs = ctx.now().getTime();
    if (!agents.some((agent) => states.get(keyOf(agent))?.short)) return 0;
    let nodes: NodeCapacity[] = [];
    try {
      const list = await ctx.client.list<KubeObject & { status?: { allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] } }>(CoreResources.node);
      nodes = list.items.map((node) => ({
        region: label(node.metadata.labels, NODE_LABELS.region) ?? 'default',
        cpu: cpuCores(node.status?.allocatable?.['cpu'], 1),
        costPerHour: Number(label(node.metadata.labels, NODE_LABELS.cost) ?? 0) || 0,
        carbonIntensity: Number(label(node.metadata.labels, NODE_LABELS.carbon) ?? 0) || 0,
        powerKw: Number(label(node.metadata.labels, NODE_LABELS.power) ?? DEFAULT_NODE_POWER_KW) || DEFAULT_NODE_POWER_KW,
        ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      }));
    } catch (error) {
      ctx.logger.warn({ error: getErrorMessage(error) }, 'Failed to list nodes for capacity plans');
    }
    const byMesh = new Map<string, AgentDemandForecast[]>();
    for (const agent of agents) {
      const state = states.get(keyOf(agent));
      const fit = state?.long ?? state?.short;
      const lastMs = state?.history.lastMs;
      if (!state || !fit || lastMs === undefined || !autoscaled(agent)) continue;
      const source = state.long ? coarseSeries(state) : state.history.series();
      const steps = Math.ceil((90 * 86_400_000) / fit.stepMs) + 1;
      const growth = state.long?.growthPerDay ?? 0;
      const point = (fit.model.forecastAt(source, [source.length], steps)[0] ?? []).map((v, i) => v * (1 + growth) ** ((i * fit.stepMs) / 86_400_000));
      const upper = point.map((p, i) => p + (fit.upperOffsets[i % Math.max(1, fit.upperOffsets.length)] ?? 0));
      const list = byMesh.get(agent.spec.meshRef) ?? [];
      list.push({
        key: keyOf(agent),
        region: agent.spec.region ?? 'default',
        startMs: forecastStartMs(state),
        stepMs: fit.stepMs,
        point,
        upper,
        capacityPerReplica: agent.spec.autoscaling.capacityPerReplica,
        minReplicas: agent.spec.runtime.minReplicas ?? 1,
        maxReplicas: agent.spec.runtime.maxReplicas ?? 100,
        cpuPerReplica: cpuCores(agent.spec.runtime.resources?.requests?.['cpu'], 0.1),
      });
      byMesh.set(agent.spec.meshRef, list);
    }
    for (const [mesh, forecasts] of byMesh) {
      if (!ctx.informers.meshes.store.get(mesh)) continue;
      const plans = capacityPlans(forecasts, nodes, nowMs);
      try {
        await applyStatus(ctx.client, MeshOsResources.mesh, mesh, { capacityPlans: { updatedAt: ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z'), currency: 'USD', plans } }, FORECASTING_FIELD_MANAGER);
      } catch (error) {
        ctx.logger.warn({ mesh, error: getErrorMessage(error) }, 'Failed to write capacity plans');
      }
    }
    return byMesh.size;
  }

  /** Persisting, fitting and planning: one run at a time, never awaited by the loop. */
  async function maintain(ctx: ModuleContext, agents: readonly Agent[]): Promise<void> {
    const nowMs = ctx.now().getTime();
    if (nowMs - lastPersistMs >= persistIntervalMs) {
      lastPersistMs = nowMs;
      for (const agent of agents) {
        const state = states.get(keyOf(agent));
        if (state) await persist(ctx, agent, state);
      }
    }
    let trained = false;
    for (const agent of agents) {
      const state = states.get(keyOf(agent));
      if (!state || (state.short && nowMs - state.lastTrainMs < trainIntervalMs)) continue;
      const started = performance.now();
      try {
        await train(ctx, agent, state);
        trained ||= state.short !== undefined;
      } catch (error) {
        ctx.logger.warn({ agent: keyOf(agent), error: getErrorMessage(error) }, 'Failed to fit demand models');
        state.lastTrainMs = nowMs;
      }
      ctx.logger.debug({ agent: keyOf(agent), ms: Math.round(performance.now() - started), model: state.short?.key }, `Fitted demand models of agent ${keyOf(agent)}`);
      await new Promise((resolve) => setImmediate(resolve)); // let the reconcilers run between agents
    }
    if (trained) ctx.requestAnalysis();
    // The first plan is written as soon as some Agent has a fitted model, then every interval.
    if (agents.length > 0 && nowMs - lastPlanMs >= planIntervalMs && (await writePlans(ctx, agents)) > 0) lastPlanMs = nowMs;
  }

  /**
   * The error correction as tuned: the model's one-step errors over the last intervals, smoothed
   * (older errors weigh less than 1e-4 after 48 intervals at the slowest smoothing tried).
   */
  function correctionError(fit: NonNullable<AgentState['short']>, series: readonly number[]): number {
    if (fit.correction.gain === 0) return 0;
    const count = Math.min(48, series.length - 1);
    const origins = Array.from({ length: count }, (_, i) => series.length - count + i);
    const oneStep = fit.model.forecastAt(series, origins, 1).map((f) => f[0] ?? 0);
    return smoothedError(origins.map((origin) => series[origin] ?? 0), oneStep, fit.correction.smoothing);
  }

  /** The replica count this module wants for an Agent now, with its reasons, or undefined when it has nothing to go on. */
  function decide(agent: Agent & { spec: { autoscaling: AutoscalingSpec & { capacityPerReplica: number } } }, state: AgentState, mesh: Mesh | undefined, nowMs: number) {
    const lastMs = state.history.lastMs;
    if (lastMs === undefined) return undefined;
    const stepMs = state.history.stepMs;
    const leadSteps = leadStepsOf(agent);
    const stale = Math.floor((nowMs - lastMs) / stepMs);
    if (stale > 3 * (leadSteps + 1)) return undefined; // no fresh demand: do nothing rather than guess
    const series = state.history.series();
    const capacity = agent.spec.autoscaling.capacityPerReplica;
    const minReplicas = agent.spec.runtime.minReplicas ?? 1;
    const maxReplicas = agent.spec.runtime.maxReplicas ?? 100;
    const current = agent.spec.runtime.replicas ?? 1;
    const lastDemand = series.at(-1) ?? 0;
    const predictive = agent.spec.autoscaling.predictive ?? mesh?.spec.autoscaling?.predictive ?? false;
    if (!predictive || !state.short) {
      const desired = clampReplicas(reactiveReplicas(current, lastDemand, capacity, REACTIVE_TARGET_UTILISATION), minReplicas, maxReplicas);
      return { desired, mode: 'reactive', demand: lastDemand, forecastPeak: undefined as number | undefined, model: undefined as string | undefined, quantile: undefined as number | undefined };
    }
    const fit = state.short;
    const steps = Math.max(0, stale) + leadSteps + 1;
    const error = correctionError(fit, series);
    const point = correctWindow(fit.model.forecastAt(series, [series.length], steps)[0] ?? [], error, fit.correction);
    // The same decision as the benchmark's replay (forecasting/replay.ts replayPredictive): the
    // upper forecast of the lead window's peak, kept per slot for the reactive correction.
    const upperPeak = windowUpper(point.slice(Math.max(0, stale), Math.max(0, stale) + leadSteps + 1), fit.headroom);
    state.upperBySlot.set(lastMs + (Math.max(0, stale) + 1) * stepMs, upperPeak);
    for (const slot of [...state.upperBySlot.keys()]) if (slot < lastMs - 10 * stepMs) state.upperBySlot.delete(slot);
    const recentSlots = [lastMs - stepMs, lastMs].filter((slot) => state.upperBySlot.has(slot));
    const recentActual = recentSlots.map((slot) => series[Math.round((slot - (state.history.firstMs ?? 0)) / stepMs)] ?? 0);
    const forecastReplicas = predictiveReplicas({
      upperOverLead: [upperPeak],
      recentActual,
      recentUpper: recentSlots.map((slot) => state.upperBySlot.get(slot) ?? Infinity),
      capacityPerReplica: capacity,
      minReplicas,
      maxReplicas,
    });
    // No floor at the reactive rule's recommendation: it chases noise and costs the replica-hours
    // the headroom is tuned to spend; the reactive correction above reacts when the forecast is wrong.
    return { desired: forecastReplicas, mode: 'predictive', demand: lastDemand, forecastPeak: upperPeak, model: fit.key, quantile: fit.quantile };
  }

  /** The upper forecast over the reservation horizon, as the scaler corrects it, and the reservation it calls for. */
  function reservationFor(agent: Agent & { spec: { autoscaling: AutoscalingSpec & { capacityPerReplica: number } } }, state: AgentState, nowMs: number) {
    const fit = state.short;
    const lastMs = state.history.lastMs;
    if (!fit || lastMs === undefined) return undefined;
    const stepMs = state.history.stepMs;
    const stale = Math.max(0, Math.floor((nowMs - lastMs) / stepMs));
    if (stale > 3 * (leadStepsOf(agent) + 1)) return undefined; // no fresh demand: keep what is there
    const series = state.history.series();
    const steps = Math.max(1, Math.ceil(reservationHorizonMs / stepMs)) + 1;
    const point = fit.model.forecastAt(series, [series.length], stale + steps)[0] ?? [];
    const error = correctionError(fit, series);
    // Each step's upper forecast: the point forecast, corrected, plus the tuned headroom at its level.
    const upper = correctWindow(point.slice(stale), error, fit.correction).map((value) => windowUpper([value], fit.headroom));
    const reservation = plannedReservation({
      upperOverHorizon: upper,
      capacityPerReplica: agent.spec.autoscaling.capacityPerReplica,
      currentReplicas: agent.spec.runtime.replicas ?? 1,
      minReplicas: agent.spec.runtime.minReplicas ?? 1,
      maxReplicas: agent.spec.runtime.maxReplicas ?? 100,
    });
    return { ...reservation, peakAtMs: lastMs + (stale + 1 + reservation.peakStep) * stepMs };
  }

  const module: KernelModule = {
    name: NAME,
    observes: ['Mesh', 'Agent', 'Pod'],
    actions: ['scale', 'reserve'],

    setup(ctx) {
      context = ctx;
      return { code: 'Success' };
    },

    /**
     * Leadership ends: finish the background work, write every history recorded since the last
     * persist (within a time budget, so a large catalogue cannot hold up the hand-over), and forget
     * the state: a later term loads what the leaders in between stored.
     */
    async teardown(ctx) {
      await background;
      const deadline = performance.now() + TEARDOWN_BUDGET_MS;
      for (const [key, state] of states) {
        const agent = ctx.informers.agents.store.get(key);
        if (agent && performance.now() < deadline) await persist(ctx, agent, state);
        state.long?.dispose();
      }
      states.clear();
      lastPersistMs = 0;
      lastPlanMs = -Infinity;
    },

    async analyse(ctx): Promise<ProposedAction[]> {
      context = ctx;
      const nowMs = ctx.now().getTime();
      const agents = ctx.informers.agents.store.list().filter(autoscaled);
      const present = new Set(agents.map(keyOf));
      for (const [key, state] of [...states]) {
        if (present.has(key)) continue;
        state.long?.dispose();
        states.delete(key);
      }
      for (const agent of agents) {
        const state = stateOf(agent);
        await ensureLoaded(ctx, agent, state);
        await scrape(ctx, agent, state, nowMs);
      }
      background ??= maintain(ctx, agents)
        .catch((error: unknown) => ctx.logger.warn({ error: getErrorMessage(error) }, 'Forecasting background work failed'))
        .finally(() => (background = undefined));

      const proposals: ProposedAction[] = [];
      for (const agent of agents) {
        const state = states.get(keyOf(agent));
        if (!state) continue;
        const decision = decide(agent, state, ctx.informers.meshes.store.get(agent.spec.meshRef), nowMs);
        if (!decision) continue;
        const current = agent.spec.runtime.replicas ?? 1;
        const desired = state.stabiliser.recommend(nowMs, decision.desired);
        if (desired === current) continue;
        if (state.lastProposed?.replicas === desired && nowMs - state.lastProposed.atMs < 60_000) continue;
        state.lastProposed = { replicas: desired, atMs: nowMs };
        const up = desired > current;
        const capacity = agent.spec.autoscaling.capacityPerReplica;
        proposals.push({
          module: NAME,
          kind: 'scale',
          target: { kind: 'Agent', name: agent.metadata.name ?? '', namespace: agent.metadata.namespace ?? '', mesh: agent.spec.meshRef },
          reason:
            decision.mode === 'predictive'
              ? `forecast demand ${Math.round((decision.forecastPeak ?? 0) * 100) / 100}/s (q${decision.quantile ?? ''}, ${decision.model ?? ''}) over the next ${agent.spec.autoscaling.leadTimeSeconds ?? 600}s needs ${desired} replicas of ${capacity}/s; now ${current}`
              : `demand ${Math.round(decision.demand * 100) / 100}/s needs ${desired} replicas of ${capacity}/s at ${REACTIVE_TARGET_UTILISATION * 100}% target; now ${current}`,
          risk: up ? 0.2 : 0.3,
          verifyWindowMs: 0,
          // Restoring capacity that current demand already exceeds is remediation.
          remediation: up && decision.demand > current * capacity,
          agentsTouched: 1,
          replicasAdded: Math.max(0, desired - current),
          params: { from: current, to: desired, mode: decision.mode, demand: decision.demand, ...(decision.forecastPeak !== undefined ? { forecastPeak: decision.forecastPeak } : {}), ...(decision.model ? { model: decision.model } : {}) },
        });
      }
      // Reservations ahead of the coming peak, through the scheduler's annotation.
      for (const agent of agents) {
        const state = states.get(keyOf(agent));
        const reservation = state ? reservationFor(agent, state, nowMs) : undefined;
        if (!state || !reservation) continue;
        const current = agent.metadata.annotations?.[RESERVE_ANNOTATION];
        let change = annotationChange(current, reservation.replicas);
        // Still wanted at the same size: confirm it before the scheduler's hold lapses.
        const refresh = change === undefined && current !== undefined && reservationNeedsRefresh(confirmedAt(agent), nowMs, RESERVATION_TTL_MS);
        if (refresh) change = current;
        if (change === undefined) continue;
        if (state.lastReservation?.value === change && nowMs - state.lastReservation.atMs < 60_000) continue;
        state.lastReservation = { value: change, atMs: nowMs };
        const capacity = agent.spec.autoscaling.capacityPerReplica;
        const peak = Math.round(reservation.peakDemand * 100) / 100;
        proposals.push({
          module: NAME,
          kind: 'reserve',
          target: { kind: 'Agent', name: agent.metadata.name ?? '', namespace: agent.metadata.namespace ?? '', mesh: agent.spec.meshRef },
          reason: refresh
            ? `upper forecast peak ${peak}/s at ${new Date(reservation.peakAtMs).toISOString()} still needs room for ${change} more replicas; confirming the reservation before the scheduler's ${Math.round(RESERVATION_TTL_MS / 60_000)}-minute hold lapses`
            : change === null
              ? `upper forecast peak ${peak}/s within the next ${Math.round(reservationHorizonMs / 60_000)} min needs no more than the ${agent.spec.runtime.replicas ?? 1} replicas running; releasing the reservation of ${current ?? ''}`
              : `upper forecast peak ${peak}/s at ${new Date(reservation.peakAtMs).toISOString()} needs ${reservation.peakReplicas} replicas of ${capacity}/s; reserving room for ${change} more than the ${agent.spec.runtime.replicas ?? 1} running`,
          risk: 0.1,
          verifyWindowMs: 0,
          agentsTouched: 1,
          replicasAdded: 0,
          params: { from: current ?? null, to: change, refresh, peakDemand: reservation.peakDemand, peakReplicas: reservation.peakReplicas, peakAt: new Date(reservation.peakAtMs).toISOString() },
        });
      }
      return proposals;
    },

    async execute(action: Action, ctx: ModuleContext): Promise<ExecutionResult> {
      if (action.kind === 'reserve') return setReservation(action, action.params['to'], ctx);
      if (action.kind !== 'scale') throw new Error(`forecasting cannot execute ${action.kind}`);
      const key = `${action.target.namespace ?? ''}/${action.target.name}`;
      const agent = ctx.informers.agents.store.get(key);
      if (!agent) throw new Error(`Agent ${key} is gone; cannot scale it`);
      const from = agent.spec.runtime.replicas ?? 1;
      const to = clampReplicas(Number(action.params['to']), agent.spec.runtime.minReplicas ?? 1, agent.spec.runtime.maxReplicas ?? 100);
      await ctx.client.patch(MeshOsResources.agent, action.target.namespace, action.target.name, { spec: { runtime: { replicas: to } } });
      return { message: `scaled Agent ${key} from ${from} to ${to} replicas`, undo: { replicas: from } };
    },

    async rollback(action: Action, result: ExecutionResult, ctx: ModuleContext): Promise<ExecutionResult> {
      if (action.kind === 'reserve') return setReservation(action, result.undo?.['value'] ?? null, ctx);
      const replicas = Number(result.undo?.['replicas']);
      if (!Number.isInteger(replicas)) throw new Error('nothing to roll back to');
      await ctx.client.patch(MeshOsResources.agent, action.target.namespace, action.target.name, { spec: { runtime: { replicas } } });
      return { message: `restored Agent ${action.target.namespace ?? ''}/${action.target.name} to ${replicas} replicas` };
    },
  };

  /** When the Agent's reservation was set or last confirmed, as the scheduler reads it. */
  function confirmedAt(agent: Agent): number | undefined {
    const refreshed = Date.parse(agent.metadata.annotations?.[RESERVE_REFRESHED_ANNOTATION] ?? '');
    const set = annotationSetAt(agent, RESERVE_ANNOTATION);
    if (!Number.isFinite(refreshed)) return set;
    return set === undefined ? refreshed : Math.max(set, refreshed);
  }

  /** Sets (a string) or removes (null) the Agent's reservation annotation; the scheduler acts on it. */
  async function setReservation(action: Action, value: unknown, ctx: ModuleContext): Promise<ExecutionResult> {
    if (value !== null && (typeof value !== 'string' || !/^[1-9][0-9]*$/.test(value))) throw new Error(`reservation must be a positive integer string or null, got ${JSON.stringify(value)}`);
    const key = `${action.target.namespace ?? ''}/${action.target.name}`;
    const agent = ctx.informers.agents.store.get(key);
    if (!agent) throw new Error(`Agent ${key} is gone; cannot reserve for it`);
    const previous = agent.metadata.annotations?.[RESERVE_ANNOTATION] ?? null;
    // Setting (or confirming) a reservation starts its lifetime now; removing it drops the time too.
    const confirmed = value === null ? null : new Date().toISOString();
    await ctx.client.patch(MeshOsResources.agent, action.target.namespace, action.target.name, {
      metadata: { annotations: { [RESERVE_ANNOTATION]: value, [RESERVE_REFRESHED_ANNOTATION]: confirmed } },
    });
    return {
      message: value === null ? `released the capacity reservation of Agent ${key}` : `reserved capacity for ${value} more replicas of Agent ${key} (${RESERVE_ANNOTATION})`,
      undo: { value: previous },
    };
  }

  const demand: DemandSink = {
    get accepting() {
      return context !== undefined;
    },
    knows(namespace, name) {
      const agent = context?.informers.agents.store.get(`${namespace}/${name}`);
      return agent !== undefined && autoscaled(agent);
    },
    push(namespace, name, samples: readonly DemandSample[]) {
      const agent = context?.informers.agents.store.get(`${namespace}/${name}`);
      if (!agent || !autoscaled(agent)) throw new Error(`Agent ${namespace}/${name} has no autoscaling`);
      const state = stateOf(agent);
      for (const sample of [...samples].sort((a, b) => a.timeMs - b.timeMs)) record(state, sample.timeMs, sample.value);
      context?.requestAnalysis();
    },
  };

  return { module, demand, idle: async () => void (await background) };
}
