// Early warning from a node's own heartbeat series: the gaps between its Lease renewals. A node
// whose kubelet (or network) is getting into trouble renews late and irregularly before it stops;
// the project's anomaly detector over the gaps warns before the heartbeat timeout is reached.
import { multiScaleDetector, type Detector } from './anomaly.js';

/** The threshold the leave-one-file-out NAB evaluation picks most often for the project detector. */
export const WARNING_THRESHOLD = 0.9995;
/** Renewals without a second warning after one (about a day of 10 s renewals would be 8640). */
export const QUIET_RENEWALS = 360;
/** Renewals needed before warnings count (the detector's reference must fill first). */
export const WARM_UP_RENEWALS = 60;

interface NodeSeries {
  detector: Detector;
  lastRenewMs: number;
  count: number;
  quietUntil: number;
}

export interface HeartbeatWarning {
  node: string;
  score: number;
  gapSeconds: number;
  reason: string;
}

export class HeartbeatPredictor {
  private readonly series = new Map<string, NodeSeries>();

  constructor(private readonly threshold = WARNING_THRESHOLD) {}

  /** Feeds one Lease renewal; returns a warning when the gap is anomalous for this node. */
  observe(node: string, renewMs: number): HeartbeatWarning | undefined {
    const entry = this.series.get(node);
    if (!entry) {
      this.series.set(node, { detector: multiScaleDetector({ referenceSize: 720, scales: [1, 6] }), lastRenewMs: renewMs, count: 0, quietUntil: 0 });
      return undefined;
    }
    if (renewMs <= entry.lastRenewMs) return undefined;
    const gapSeconds = (renewMs - entry.lastRenewMs) / 1000;
    entry.lastRenewMs = renewMs;
    entry.count++;
    const score = entry.detector.push(gapSeconds);
    if (entry.count < WARM_UP_RENEWALS || entry.count < entry.quietUntil || score < this.threshold) return undefined;
    entry.quietUntil = entry.count + QUIET_RENEWALS;
    return { node, score, gapSeconds, reason: `heartbeat gaps of node ${node} turned anomalous (latest ${gapSeconds.toFixed(1)} s, anomaly score ${score.toFixed(4)}): it may be about to fail` };
  }

  forget(node: string): void {
    this.series.delete(node);
  }
}
