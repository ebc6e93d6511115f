/** Reads a run's metrics.jsonl (tolerantly) and prepares the compact data the report page draws. */

import type {
  CorrMatrix,
  EpochSeries,
  EvalSeries,
  Num,
  PcaData,
  ReportData,
  StdHistSeries,
  StepSeries,
} from './types.js';
import { FASHION_MNIST_CLASSES, RAW_PIXEL_BASELINES } from './types.js';

/** At most this many points per step series; longer runs are reduced to bucket means. */
export const MAX_STEP_POINTS = 1500;
/** At most this many std_hist / epoch / eval points (evenly thinned, last kept). */
export const MAX_EPOCH_POINTS = 1000;
/** At most this many PCA points. */
export const MAX_PCA_POINTS = 2000;

type Rec = Record<string, unknown> & { type: string };

export interface ParsedMetrics {
  records: Rec[];
  /** lines that were not JSON objects with a string "type" (1-based line numbers) */
  badLines: number[];
  /** the last line was cut off (no newline at the end and not parseable) */
  truncatedLast: boolean;
}

export function parseMetrics(text: string): ParsedMetrics {
  const lines = text.split('\n');
  const records: Rec[] = [];
  const badLines: number[] = [];
  let truncatedLast = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) truncatedLast = true;
      else badLines.push(i + 1);
      continue;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof (v as Rec).type === 'string') {
      records.push(v as Rec);
    } else {
      badLines.push(i + 1);
    }
  }
  return { records, badLines, truncatedLast };
}

const num = (v: unknown): Num => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const int = (v: unknown, dflt = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);
/** round to `sig` significant digits (keeps the inline JSON small) */
export const round = (v: Num, sig = 5): Num => (v === null ? null : v === 0 ? 0 : Number(v.toPrecision(sig)));

/** Debiased exponential moving average that skips nulls. */
export function ema(xs: Num[], span: number): Num[] {
  const a = 2 / (span + 1);
  let m = 0;
  let w = 0;
  return xs.map((x) => {
    if (x !== null) {
      m = (1 - a) * m + a * x;
      w = (1 - a) * w + a;
    }
    return w > 0 ? m / w : null;
  });
}

/** Bucket boundaries splitting n items into at most `max` contiguous buckets. */
function buckets(n: number, max: number): [number, number][] {
  if (n <= max) return Array.from({ length: n }, (_, i) => [i, i + 1] as [number, number]);
  const out: [number, number][] = [];
  for (let b = 0; b < max; b++) out.push([Math.floor((b * n) / max), Math.floor(((b + 1) * n) / max)]);
  return out;
}

function meanOf(xs: Num[], lo: number, hi: number): Num {
  let s = 0;
  let c = 0;
  for (let i = lo; i < hi; i++) {
    const x = xs[i];
    if (x !== null && x !== undefined) {
      s += x;
      c++;
    }
  }
  return c ? s / c : null;
}

/** Evenly thin to at most `max` indices, always keeping the first and the last. */
function thinIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)));
  return [...new Set(out)];
}

function stepSeries(recs: Rec[], notes: string[]): StepSeries | null {
  if (!recs.length) return null;
  const n = recs.length;
  const col = (k: string) => recs.map((r) => num(r[k]));
  const loss = col('loss');
  const inv = col('invariance');
  const vr = col('variance');
  const cov = col('covariance');
  const span = Math.max(1, Math.min(500, Math.round(n / 40)));
  const cols = {
    loss,
    invariance: inv,
    variance: vr,
    covariance: cov,
    lossEma: ema(loss, span),
    invarianceEma: ema(inv, span),
    varianceEma: ema(vr, span),
    covarianceEma: ema(cov, span),
    lr: col('lr'),
    imagesPerSec: col('images_per_sec'),
    time: col('time'),
  };
  const steps = recs.map((r, i) => int(r.step, i));
  const epochs = recs.map((r) => int(r.epoch));
  const bs = buckets(n, MAX_STEP_POINTS);
  const down = bs.length < n;
  if (down) notes.push(`${n} step records drawn as ${bs.length} points (means over buckets of ~${Math.round(n / bs.length)} steps).`);
  const pick = (xs: Num[], isEma: boolean) =>
    bs.map(([lo, hi]) => round(down && !isEma ? meanOf(xs, lo, hi) : (xs[hi - 1] ?? null)));
  return {
    step: bs.map(([, hi]) => steps[hi - 1]!),
    epoch: bs.map(([, hi]) => epochs[hi - 1]!),
    loss: pick(cols.loss, false),
    invariance: pick(cols.invariance, false),
    variance: pick(cols.variance, false),
    covariance: pick(cols.covariance, false),
    lossEma: pick(cols.lossEma, true),
    invarianceEma: pick(cols.invarianceEma, true),
    varianceEma: pick(cols.varianceEma, true),
    covarianceEma: pick(cols.covarianceEma, true),
    lr: pick(cols.lr, false),
    imagesPerSec: pick(cols.imagesPerSec, false),
    time: pick(cols.time, true),
    recorded: n,
    drawn: bs.length,
  };
}

function epochSeries(all: Rec[]): EpochSeries | null {
  if (!all.length) return null;
  const recs = thinIndices(all.length, MAX_EPOCH_POINTS).map((i) => all[i]!);
  const last = all[all.length - 1]!;
  return {
    step: recs.map((r) => int(r.step)),
    epoch: recs.map((r) => int(r.epoch)),
    embStdMean: recs.map((r) => round(num(r.emb_std_mean))),
    embStdFracBelowGamma: recs.map((r) => round(num(r.emb_std_frac_below_gamma))),
    effectiveRank: recs.map((r) => round(num(r.effective_rank))),
    reprDim: num(last.repr_dim),
    embDim: num(last.emb_dim),
  };
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function stdHistSeries(all: Rec[]): StdHistSeries | null {
  const valid = all
    .map((r) => ({ r, std: Array.isArray(r.std) ? (r.std as unknown[]).map(num).filter((x): x is number => x !== null) : [] }))
    .filter((x) => x.std.length > 0);
  if (!valid.length) return null;
  const recs = thinIndices(valid.length, MAX_EPOCH_POINTS).map((i) => valid[i]!);
  const sortedAsc = recs.map((x) => [...x.std].sort((a, b) => a - b));
  const q = (p: number) => sortedAsc.map((s) => round(quantile(s, p))!);
  const profile = (x: { r: Rec; std: number[] }) => ({
    epoch: int(x.r.epoch),
    step: int(x.r.step),
    std: [...x.std].sort((a, b) => b - a).slice(0, 512).map((v) => round(v, 4)!),
  });
  return {
    step: recs.map((x) => int(x.r.step)),
    epoch: recs.map((x) => int(x.r.epoch)),
    min: q(0),
    p10: q(0.1),
    median: q(0.5),
    p90: q(0.9),
    max: q(1),
    dims: valid[valid.length - 1]!.std.length,
    first: profile(valid[0]!),
    last: profile(valid[valid.length - 1]!),
  };
}

function corrMatrix(r: Rec | undefined): CorrMatrix | null {
  if (!r || !Array.isArray(r.matrix)) return null;
  const m = (r.matrix as unknown[]).map((v) => num(v) ?? 0);
  let dim = int(r.dim, Math.round(Math.sqrt(m.length)));
  if (dim * dim !== m.length) dim = Math.floor(Math.sqrt(m.length));
  if (dim < 1) return null;
  let s = 0;
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) if (i !== j) s += Math.abs(m[i * dim + j]!);
  return {
    epoch: int(r.epoch),
    step: int(r.step),
    dim,
    matrix: m.slice(0, dim * dim).map((v) => Math.round(v * 1000) / 1000),
    meanAbsOffDiag: round(dim > 1 ? s / (dim * (dim - 1)) : 0, 4)!,
  };
}

function evalSeries(all: Rec[]): EvalSeries | null {
  if (!all.length) return null;
  const recs = thinIndices(all.length, MAX_EPOCH_POINTS).map((i) => all[i]!);
  return {
    epoch: recs.map((r) => int(r.epoch)),
    step: recs.map((r) => int(r.step)),
    knn: recs.map((r) => round(num(r.knn_top1))),
    linear: recs.map((r) => round(num(r.linear_top1))),
    knnInit: recs.map((r) => round(num(r.knn_top1_init))),
    linearInit: recs.map((r) => round(num(r.linear_top1_init))),
  };
}

function pcaData(r: Rec | undefined): PcaData | null {
  if (!r || !Array.isArray(r.points)) return null;
  const pts: [number, number, number][] = [];
  for (const p of r.points as unknown[]) {
    if (!Array.isArray(p) || p.length < 2) continue;
    const x = num(p[0]);
    const y = num(p[1]);
    if (x === null || y === null) continue;
    pts.push([round(x, 4)!, round(y, 4)!, int(p[2], -1)]);
  }
  if (!pts.length) return null;
  const keep = thinIndices(pts.length, MAX_PCA_POINTS).map((i) => pts[i]!);
  return { epoch: int(r.epoch), points: keep };
}

export interface BuildInput {
  runDir: string;
  metricsText: string;
  config: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
  /** notes from reading the other files */
  notes?: string[];
}

export function buildReportData(input: BuildInput): ReportData {
  const { records, badLines, truncatedLast } = parseMetrics(input.metricsText);
  const notes = [...(input.notes ?? [])];
  if (truncatedLast) notes.push('metrics.jsonl: the last line is incomplete (run still going or interrupted); it was ignored.');
  if (badLines.length)
    notes.push(
      `metrics.jsonl: ${badLines.length} unreadable line(s) skipped (line ${badLines.slice(0, 5).join(', ')}${badLines.length > 5 ? ', ...' : ''}).`,
    );
  const of = (t: string) => records.filter((r) => r.type === t);
  const corrs = of('corr');
  const pcas = of('pca');
  const corrStart = corrMatrix(corrs[0]);
  const corrEnd = corrs.length > 1 ? corrMatrix(corrs[corrs.length - 1]) : null;
  const cfg = input.config;
  const title =
    (cfg && typeof cfg.name === 'string' && cfg.name) ||
    (cfg && typeof cfg.preset === 'string' ? `VICReg run (${cfg.preset})` : '') ||
    'VICReg run';
  return {
    title,
    runDir: input.runDir,
    generatedAt: new Date().toISOString(),
    notes,
    steps: stepSeries(of('step'), notes),
    epochs: epochSeries(of('epoch')),
    stdHist: stdHistSeries(of('std_hist')),
    corrStart,
    corrEnd,
    evals: evalSeries(of('eval')),
    pca: pcaData(pcas[pcas.length - 1]),
    config: cfg,
    summary: input.summary,
    baselines: RAW_PIXEL_BASELINES,
    classes: FASHION_MNIST_CLASSES,
  };
}
