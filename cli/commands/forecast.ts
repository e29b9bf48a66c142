// `mesh forecast --input FILE.csv --horizon H [--season S] --json`: fits the forecasting models
// on any `timestamp,value` file, picks one by rolling-origin backtest, and prints the H points
// after the file's last row with an upper quantile.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { disposeSelection, forecastSeries } from '../../forecasting/forecaster.js';
import { DEFAULT_LSTM_OPTIONS } from '../../forecasting/models/lstm-spec.js';
import { parseCsv, regularise, SeriesInputError } from '../../forecasting/series.js';
import { parseGoDuration } from '../../crds/schema/common.js';
import { UsageError, type CliIo } from '../io.js';
import { outputOption, printResult, type Column } from '../output.js';

interface ForecastFlags {
  input?: string;
  horizon?: string;
  season?: string;
  quantile: string;
  lstm: boolean;
  /** The exact interface tools read: one line of {"model", "forecast", "upper"}. */
  json?: boolean;
  output: 'table' | 'json' | 'yaml';
}

interface ForecastPoint {
  time: string;
  forecast: number;
  upper: number;
}

/** A count of steps (`48`) or a duration (`24h`, `7d`, `30m`) converted to steps. */
export function parseSteps(flag: string, value: string, stepMs: number): number {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const steps = Number(trimmed);
    if (steps < 1) throw new UsageError(`${flag} must be at least 1, got "${value}"`);
    return steps;
  }
  const days = /^(\d+(\.\d+)?)d$/.exec(trimmed);
  const ms = days ? Number(days[1]) * 86_400_000 : parseGoDuration(trimmed);
  if (ms === undefined || !(ms > 0)) throw new UsageError(`${flag} must be a number of steps (48) or a duration (24h, 7d), got "${value}"`);
  const steps = Math.round(ms / stepMs);
  if (steps < 1) throw new UsageError(`${flag} ${value} is shorter than one step of the series (${stepMs / 1000} s)`);
  return steps;
}

export async function runForecast(flags: ForecastFlags, io: CliIo): Promise<void> {
  if (!flags.input) throw new UsageError('--input FILE.csv is required');
  if (!flags.horizon) throw new UsageError('--horizon H is required (steps, or a duration such as 24h)');
  const quantile = Number(flags.quantile);
  if (!(quantile > 0 && quantile < 1)) throw new UsageError(`--quantile must be within (0, 1), got "${flags.quantile}"`);
  let text: string;
  try {
    text = await readFile(flags.input, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --input ${flags.input}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let series;
  try {
    series = regularise(parseCsv(text));
  } catch (error) {
    if (error instanceof SeriesInputError) throw new UsageError(`${flags.input}: ${error.message}`);
    throw error;
  }
  const horizon = parseSteps('--horizon', flags.horizon, series.stepMs);
  if (horizon > 100_000) throw new UsageError(`--horizon must be at most 100000 steps, got ${horizon}`);
  const season = flags.season === undefined ? undefined : parseSteps('--season', flags.season, series.stepMs);
  if (season !== undefined && season >= series.values.length) {
    throw new UsageError(`--season ${flags.season} (${season} steps) must be shorter than the series (${series.values.length} steps)`);
  }
  const result = await forecastSeries(series.values, {
    stepMs: series.stepMs,
    horizon,
    quantile,
    ...(season !== undefined ? { season } : {}),
    // A command-line run keeps the LSTM's training short; the operator trains off the reconcile path.
    lstm: flags.lstm ? { ...DEFAULT_LSTM_OPTIONS, maxTrainMs: 5_000 } : false,
  });
  disposeSelection(result.selection);
  const round = (v: number): number => Math.round(v * 1e6) / 1e6;
  const data = { model: result.model, forecast: result.forecast.map(round), upper: result.upper.map(round) };
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(data)}\n`);
    return;
  }
  const lastMs = series.startMs + (series.values.length - 1) * series.stepMs;
  const rows: ForecastPoint[] = result.forecast.map((value, i) => ({
    time: new Date(lastMs + (i + 1) * series.stepMs).toISOString(),
    forecast: round(value),
    upper: round(result.upper[i] ?? value),
  }));
  const columns: Column<ForecastPoint>[] = [
    { header: 'TIME', value: (p) => p.time },
    { header: 'FORECAST', value: (p) => String(p.forecast) },
    { header: `UPPER(Q${quantile})`, value: (p) => String(p.upper) },
  ];
  if (flags.output === 'table') {
    io.stdout.write(`model: ${result.model} (${result.selection.selected.model.description})\n`);
    io.stdout.write(`step: ${series.stepMs / 1000} s, ${series.values.length} points${series.filled ? `, ${series.filled} missing filled` : ''}\n`);
  }
  printResult(io, { format: flags.output, rows, columns, data });
}

export function registerForecastCommand(program: Command, io: CliIo): void {
  program
    .command('forecast')
    .description('Forecast a timestamp,value CSV: picks a model by rolling-origin backtest and prints the next H points with an upper quantile')
    .option('--input <file>', 'CSV with timestamp,value rows (header optional)')
    .option('--horizon <h>', 'points to forecast after the last row: steps (48) or a duration (24h)')
    .option('--season <s>', 'season length: steps or a duration (default: daily and weekly are tried)')
    .option('--quantile <q>', 'upper quantile level within (0, 1)', '0.9')
    .option('--no-lstm', 'leave the LSTM out (faster)')
    .option('--json', 'print {"model", "forecast", "upper"} as one line of JSON (the interface for tools; overrides -o)')
    .addOption(outputOption(['table', 'json', 'yaml']))
    .addHelpText('after', '\nNo cluster needed: it reads the file only.\n\nExamples:\n  mesh forecast --input demand.csv --horizon 48 --json\n  mesh forecast --input demand.csv --horizon 7d --season 24h -o yaml')
    .action(async (flags: ForecastFlags) => {
      await runForecast(flags, io);
    });
}
