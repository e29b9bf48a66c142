// The LSTM's training bounds, shared by the model family (lstm-spec.ts) and the network (lstm.ts).

export interface LstmOptions {
  /** Residuals the LSTM reads before the origin. */
  window: number;
  units: number;
  maxEpochs: number;
  /** Training stops after this much wall time even if epochs remain. */
  maxTrainMs: number;
  /** Training windows sampled from the training prefix. */
  maxSamples: number;
  seed: number;
}

export const DEFAULT_LSTM_OPTIONS: LstmOptions = { window: 24, units: 24, maxEpochs: 30, maxTrainMs: 20_000, maxSamples: 384, seed: 7 };
