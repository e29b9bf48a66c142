// The LSTM model family, without TensorFlow.js: the network (lstm.ts, which loads
// @tensorflow/tfjs and its WebAssembly backend, about 55 MB resident) is imported on the first
// fit, so an operator whose Agents never train an LSTM never loads it.
import { DEFAULT_LSTM_OPTIONS, type LstmOptions } from './lstm-options.js';
import type { ModelSpec } from './model.js';

export { DEFAULT_LSTM_OPTIONS, type LstmOptions } from './lstm-options.js';

/** The LSTM as a model family over a given baseline family. */
export const lstmSpec = (baselineSpec: ModelSpec, options: LstmOptions = DEFAULT_LSTM_OPTIONS): ModelSpec => ({
  name: 'lstm',
  applicable: (trainEnd) => baselineSpec.applicable(trainEnd),
  async fit(values, trainEnd, tuningOrigins, horizon) {
    const baseline = await baselineSpec.fit(values, trainEnd, tuningOrigins, horizon);
    const { trainResidualLstm } = await import('./lstm.js');
    return trainResidualLstm(values, trainEnd, baseline, horizon, options);
  },
});
