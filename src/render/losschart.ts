// The loss curves (train and validation, in bits per character against step) that `train`
// prints at the end and `info` shows for a checkpoint.

import type { Series } from './axis.js';
import { renderChart } from './chart.js';

/** trainLoss: nats per step, one entry per step; val: [step, nats]. */
export function lossChart(trainLoss: ArrayLike<number>, val: Array<[number, number]>, opts: { width: number; height: number; color: boolean }): string {
  // Average the per-step training loss into at most ~150 points so the curve is readable.
  const n = trainLoss.length;
  const per = Math.max(1, Math.ceil(n / 150));
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < n; i += per) {
    let sum = 0, k = 0;
    for (let j = i; j < Math.min(n, i + per); j++, k++) sum += trainLoss[j];
    pts.push([i + k, sum / k / Math.LN2]);
  }
  const series: Series[] = [{ label: 'train bpc', points: pts, color: 'cyan' }];
  if (val.length) series.push({ label: 'validation bpc', points: val.map(([step, loss]) => [step, loss / Math.LN2]), color: 'yellow' });
  return renderChart(series, { ...opts, title: 'loss (bits per character)', xLabel: 'step' });
}
