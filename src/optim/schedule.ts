/**
 * VICReg's learning-rate schedule (main_vicreg.py adjust_learning_rate): linear
 * warmup from 0 over `warmupSteps`, then a cosine from the peak down to
 * `endFactor` x peak at `totalSteps`; peak = baseLr x batchSize / 256.
 */
export interface LrScheduleOptions {
  baseLr: number;
  batchSize: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final lr as a fraction of the peak (default 0.001). */
  endFactor?: number;
}

export function peakLr(baseLr: number, batchSize: number): number {
  return (baseLr * batchSize) / 256;
}

/** The learning rate at `step` (0-based); pure. */
export function learningRate(step: number, o: LrScheduleOptions): number {
  const peak = peakLr(o.baseLr, o.batchSize);
  if (step < o.warmupSteps) return (peak * step) / o.warmupSteps;
  const span = o.totalSteps - o.warmupSteps;
  const t = span > 0 ? Math.min(step - o.warmupSteps, span) / span : 1;
  const q = 0.5 * (1 + Math.cos(Math.PI * t));
  const end = peak * (o.endFactor ?? 0.001);
  return peak * q + end * (1 - q);
}
