// An LSTM on deseasonalised residuals: a seasonal baseline carries the daily/weekly shape, and a
// small LSTM learns how the recent deviation from it carries into the next horizon. Training is
// bounded in epochs and wall time, every tensor is disposed, and weights export to plain JSON.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { seededRandom } from '../../operator/util/random.js';
import { clean, type FittedModel } from './model.js';
import { DEFAULT_LSTM_OPTIONS, type LstmOptions } from './lstm-options.js';

let backendReady: Promise<string> | undefined;

/** Selects the wasm backend once (about 4x faster than cpu here); the .wasm files ship in the package. */
export function ensureWasmBackend(): Promise<string> {
  backendReady ??= (async () => {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    const ok = await tf.setBackend('wasm');
    if (!ok) await tf.setBackend('cpu');
    await tf.ready();
    return tf.getBackend();
  })();
  return backendReady;
}

/** Weights and topology as plain JSON, so a trained model can be persisted and reloaded. */
export interface LstmArtifacts {
  modelTopology: unknown;
  weightSpecs: unknown;
  weightData: string;
  scale: number;
  window: number;
  horizon: number;
}

function buildModel(window: number, horizon: number, units: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.lstm({ units, inputShape: [window, 1], kernelInitializer: 'glorotUniform', recurrentInitializer: 'glorotUniform' }));
  model.add(tf.layers.dense({ units: horizon, kernelInitializer: 'zeros' }));
  model.compile({ optimizer: tf.train.adam(0.005), loss: 'meanAbsoluteError' });
  return model;
}

/** A fitted residual LSTM on top of a seasonal baseline. */
export class ResidualLstm implements FittedModel {
  readonly name = 'lstm';
  constructor(
    private readonly network: tf.LayersModel,
    private readonly baseline: FittedModel,
    readonly scale: number,
    readonly window: number,
    readonly horizon: number,
    readonly trainedEpochs: number,
  ) {}

  get description(): string {
    return `LSTM(${this.window} steps) on residuals of ${this.baseline.description}; best of validation after ${this.trainedEpochs} epochs (0: the baseline alone)`;
  }

  /** Residuals of one-step baseline forecasts at the `window` steps before the origin. */
  private inputs(values: readonly number[], origin: number): number[] {
    const from = Math.max(0, origin - this.window);
    const points = Array.from({ length: origin - from }, (_, i) => from + i);
    const oneStep = this.baseline.forecastAt(values, points, 1);
    const residuals = points.map((t, i) => ((values[t] ?? 0) - (oneStep[i]?.[0] ?? 0)) / this.scale);
    while (residuals.length < this.window) residuals.unshift(0);
    return residuals;
  }

  forecastAt(values: readonly number[], origins: readonly number[], horizon: number): number[][] {
    const base = this.baseline.forecastAt(values, origins, horizon);
    const input = origins.flatMap((origin) => this.inputs(values, origin));
    const predicted = tf.tidy(() => {
      const x = tf.tensor3d(input, [origins.length, this.window, 1]);
      return (this.network.predict(x) as tf.Tensor).arraySync() as number[][];
    });
    return origins.map((_, k) =>
      Array.from({ length: horizon }, (_, i) => clean((base[k]?.[i] ?? 0) + (i < this.horizon ? (predicted[k]?.[i] ?? 0) * this.scale : 0))),
    );
  }

  /** Topology and weights as JSON (weights base64), for persisting. */
  async exportArtifacts(): Promise<LstmArtifacts> {
    let saved: tf.io.ModelArtifacts | undefined;
    await this.network.save(tf.io.withSaveHandler((artifacts) => {
      saved = artifacts;
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }));
    if (!saved?.weightData || !saved.weightSpecs) throw new Error('LSTM export produced no weights');
    const weights = tf.io.concatenateArrayBuffers(Array.isArray(saved.weightData) ? saved.weightData : [saved.weightData]);
    return {
      modelTopology: saved.modelTopology,
      weightSpecs: saved.weightSpecs,
      weightData: Buffer.from(weights).toString('base64'),
      scale: this.scale,
      window: this.window,
      horizon: this.horizon,
    };
  }

  /** Rebuilds a model exported by `exportArtifacts` on top of the same baseline. */
  static async fromArtifacts(artifacts: LstmArtifacts, baseline: FittedModel): Promise<ResidualLstm> {
    await ensureWasmBackend();
    const bytes = Buffer.from(artifacts.weightData, 'base64');
    const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const network = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
        weightSpecs: artifacts.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData,
      }),
    );
    return new ResidualLstm(network, baseline, artifacts.scale, artifacts.window, artifacts.horizon, 0);
  }

  dispose(): void {
    this.network.dispose();
  }
}

/**
 * Trains the residual LSTM on windows sampled from the training prefix only: inputs are the
 * baseline's one-step residuals before a sampled origin, targets the residuals of the
 * baseline's multi-step forecast from that origin.
 */
export async function trainResidualLstm(
  values: readonly number[],
  trainEnd: number,
  baseline: FittedModel,
  horizon: number,
  options: LstmOptions = DEFAULT_LSTM_OPTIONS,
): Promise<ResidualLstm> {
  await ensureWasmBackend();
  const train = values.slice(0, trainEnd);
  const random = seededRandom(options.seed);
  const first = Math.max(options.window + 1, Math.floor(trainEnd / 4));
  const last = trainEnd - horizon;
  const origins: number[] = [];
  for (let k = 0; k < options.maxSamples && last > first; k++) origins.push(first + Math.floor(random() * (last - first)));
  origins.sort((a, b) => a - b);
  const oneStepPoints = Array.from({ length: trainEnd - first + options.window }, (_, i) => first - options.window + i).filter((t) => t >= 0 && t < trainEnd);
  const oneStep = baseline.forecastAt(train, oneStepPoints, 1);
  const residualAt = new Map<number, number>();
  oneStepPoints.forEach((t, i) => residualAt.set(t, (train[t] ?? 0) - (oneStep[i]?.[0] ?? 0)));
  const multi = baseline.forecastAt(train, origins, horizon);
  const absolute = [...residualAt.values()].map(Math.abs).sort((a, b) => a - b);
  const scale = Math.max(absolute[Math.floor(absolute.length / 2)] ?? 1, 1e-6);
  const inputs: number[] = [];
  const targets: number[] = [];
  origins.forEach((origin, k) => {
    for (let t = origin - options.window; t < origin; t++) inputs.push((residualAt.get(t) ?? 0) / scale);
    for (let i = 0; i < horizon; i++) targets.push(((train[origin + i] ?? 0) - (multi[k]?.[i] ?? 0)) / scale);
  });
  // The newest fifth of the windows (in time) validates: training stops when it stops improving,
  // the best epoch's weights are kept, and if no epoch beats the plain baseline (zero residual)
  // the LSTM adds nothing.
  const validation = Math.max(1, Math.floor(origins.length / 5));
  const fitCount = origins.length - validation;
  const network = buildModel(options.window, horizon, options.units);
  const x = tf.tensor3d(inputs.slice(0, fitCount * options.window), [fitCount, options.window, 1]);
  const y = tf.tensor2d(targets.slice(0, fitCount * horizon), [fitCount, horizon]);
  const xValidation = tf.tensor3d(inputs.slice(fitCount * options.window), [validation, options.window, 1]);
  const yValidation = tf.tensor2d(targets.slice(fitCount * horizon), [validation, horizon]);
  const validationLoss = (): number =>
    tf.tidy(() => (network.evaluate(xValidation, yValidation) as tf.Scalar).dataSync()[0] ?? Infinity);
  const baselineLoss = targets.slice(fitCount * horizon).reduce((sum, t) => sum + Math.abs(t), 0) / Math.max(1, validation * horizon);
  let best = { loss: baselineLoss, weights: undefined as tf.Tensor[] | undefined, epoch: 0 };
  const started = Date.now();
  let epochs = 0;
  try {
    for (; epochs < options.maxEpochs && Date.now() - started < options.maxTrainMs && epochs - best.epoch < 4; epochs++) {
      await network.fit(x, y, { epochs: 1, batchSize: 64, shuffle: true, verbose: 0 });
      const loss = validationLoss();
      if (loss < best.loss) {
        best.weights?.forEach((w) => w.dispose());
        best = { loss, weights: network.getWeights().map((w) => w.clone()), epoch: epochs + 1 };
      }
    }
    if (best.weights) network.setWeights(best.weights);
  } finally {
    best.weights?.forEach((w) => w.dispose());
    for (const tensor of [x, y, xValidation, yValidation]) tensor.dispose();
  }
  if (!best.weights) {
    // No epoch beat the baseline on validation: zero the output layer, so the LSTM is the baseline.
    // getWeights returns the live variables (not to be disposed); the zeros are copied in and freed by tidy.
    const output = network.layers[network.layers.length - 1];
    tf.tidy(() => output?.setWeights(output.getWeights().map((w) => tf.zerosLike(w))));
  }
  const chosenEpochs = best.epoch;
  return new ResidualLstm(network, baseline, scale, options.window, horizon, chosenEpochs);
}

