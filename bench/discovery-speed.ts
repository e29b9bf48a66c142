export interface SpeedResult {
  latency: Record<string, { p50Ms: number; p99Ms: number; qps: number }>;
  indexBuildSeconds: Record<string, number>;
  serverRssMb: Record<string, number>;
}
export function runSpeedBenchmark(_options: { tools: readonly unknown[]; sizes: readonly number[]; durationSeconds: number }): Promise<SpeedResult> {
  return Promise.reject(new Error('speed part not written yet'));
}
