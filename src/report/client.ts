/**
 * The report page's script (runs in the browser). Bundled with uPlot by esbuild when the report is
 * written (src/report/html.ts) and inlined into report.html, together with the data as inline JSON.
 *
 * Line and scatter charts are uPlot (canvas); the correlation heatmaps are drawn on a plain canvas.
 * Every chart lives in an element with `data-chart="NAME"`; after drawing, the element gets
 * `data-status` = 'ok' | 'missing' | 'error', and <body> gets `data-ready="1"` when all are done.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CorrMatrix, Num, ReportData } from './types.js';

const C = {
  loss: '#1f4e9c',
  invariance: '#1b9e77',
  variance: '#d95f02',
  covariance: '#7570b3',
  lr: '#8c564b',
  throughput: '#e7298a',
  knn: '#1f77b4',
  linear: '#d62728',
  ref: '#888888',
  q: '#2c7fb8',
};

/** Tableau 10: one colour per Fashion-MNIST class. */
const CLASS_COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#17becf',
];

const CHART_H = 250;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

const hasData = (xs: Num[] | undefined | null): xs is Num[] => !!xs && xs.some((v) => v !== null);

function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  if (a >= 100) return v.toFixed(0);
  return String(Number(v.toPrecision(3)));
}
const fmtPct = (v: number) => `${(v * 100).toFixed(Math.abs(v * 100 - Math.round(v * 100)) < 1e-9 ? 0 : 1)}%`;

/** A chart slot: <figure data-chart=NAME> with a title, a plot area and a caption. */
function slot(parent: HTMLElement, name: string, title: string, caption = ''): { fig: HTMLElement; plot: HTMLElement } {
  const plot = h('div', { class: 'plot' });
  const fig = h(
    'figure',
    { class: 'chart', 'data-chart': name, id: `chart-${name}` },
    h('h3', {}, title),
    plot,
    caption ? h('figcaption', {}, caption) : null,
  );
  parent.append(fig);
  return { fig, plot };
}

function missing(fig: HTMLElement, plot: HTMLElement, what: string) {
  fig.dataset.status = 'missing';
  plot.append(h('div', { class: 'missing' }, `not recorded (${what})`));
}

function plotWidth(plot: HTMLElement): number {
  return Math.max(280, Math.floor(plot.getBoundingClientRect().width || 520));
}

interface Line {
  label: string;
  data: Num[];
  color: string;
  width?: number;
  dash?: number[];
  points?: boolean;
  scale?: string;
}

interface LineOpts {
  x: number[];
  xLabel: string;
  yLabel: string;
  lines: Line[];
  yFmt?: (v: number) => string;
  /** second y axis on the right for lines with scale 'y2' */
  y2?: { label: string; fmt?: (v: number) => string; range?: [number, number] };
  yRange?: (min: number, max: number) => [number, number];
  logY?: boolean;
  /** integer x ticks (epochs) */
  xInt?: boolean;
}

/** Keeps an x range non-degenerate (a single point still draws). */
const xRange = (_u: uPlot, min: number, max: number): uPlot.Range.MinMax =>
  min === max ? [min - 1, max + 1] : [min, max];

function padRange(min: number, max: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const d = Math.abs(min) * 0.1 || 1;
    return [min - d, max + d];
  }
  const d = (max - min) * 0.06;
  return [min - d, max + d];
}

function lineChart(plot: HTMLElement, o: LineOpts): uPlot {
  const fmt = o.yFmt ?? fmtNum;
  const axes: uPlot.Axis[] = [
    { label: o.xLabel, values: (_u, vs) => vs.map((v) => fmtNum(v)), ...(o.xInt ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : {}) },
    { label: o.yLabel, size: 64, values: (_u, vs) => vs.map((v) => (v === null ? '' : fmt(v))) },
  ];
  const scales: uPlot.Scales = {
    x: { time: false, range: xRange },
    y: o.logY ? { distr: 3 } : { range: (_u, mn, mx) => (o.yRange ?? padRange)(mn, mx) },
  };
  if (o.y2) {
    const f2 = o.y2.fmt ?? fmtNum;
    axes.push({ label: o.y2.label, scale: 'y2', side: 1, size: 60, grid: { show: false }, values: (_u, vs) => vs.map((v) => f2(v)) });
    scales.y2 = { range: o.y2.range ? () => o.y2!.range! : (_u, mn, mx) => padRange(mn, mx) };
  }
  const series: uPlot.Series[] = [
    { label: o.xLabel, value: (_u, v) => (v === null ? '-' : fmtNum(v)) },
    ...o.lines.map(
      (l): uPlot.Series => ({
        label: l.label,
        stroke: l.color,
        width: l.width ?? 1.5,
        dash: l.dash,
        scale: l.scale ?? 'y',
        spanGaps: true,
        points: { show: l.points ?? false, size: 6, fill: l.color },
        value: (_u, v) => (v === null ? '-' : l.scale === 'y2' ? (o.y2?.fmt ?? fmtNum)(v) : fmt(v)),
      }),
    ),
  ];
  const data = [o.x, ...o.lines.map((l) => l.data)] as uPlot.AlignedData;
  return new uPlot({ width: plotWidth(plot), height: CHART_H, scales, axes, series, legend: { live: false } }, data, plot);
}

function section(root: HTMLElement, title: string, intro: string): HTMLElement {
  const grid = h('div', { class: 'grid' });
  root.append(h('section', {}, h('h2', {}, title), intro ? h('p', { class: 'intro' }, intro) : null, grid));
  return grid;
}

type Draw = () => void;

function guard(fig: HTMLElement, plot: HTMLElement, draw: Draw) {
  try {
    draw();
    if (!fig.dataset.status) fig.dataset.status = 'ok';
  } catch (e) {
    fig.dataset.status = 'error';
    plot.append(h('div', { class: 'missing' }, `could not draw: ${(e as Error).message}`));
    console.error(`report: chart ${fig.dataset.chart} failed:`, e);
  }
}

// ---------------------------------------------------------------- sections

function lossTerm(grid: HTMLElement, d: ReportData, name: string, title: string, key: 'loss' | 'invariance' | 'variance' | 'covariance', caption: string) {
  const { fig, plot } = slot(grid, name, title, caption);
  const s = d.steps;
  if (!s || !hasData(s[key])) return missing(fig, plot, `no "${key}" in step records`);
  const emaKey = `${key}Ema` as const;
  guard(fig, plot, () =>
    lineChart(plot, {
      x: s.step,
      xLabel: 'step',
      yLabel: key === 'loss' ? 'loss' : key,
      lines: [
        { label: s.drawn < s.recorded ? 'bucket mean' : 'per step', data: s[key], color: alpha(C[key], 0.35), width: 1 },
        { label: 'smoothed (EMA)', data: s[emaKey], color: C[key], width: 2 },
      ],
    }),
  );
}

function trainingSection(root: HTMLElement, d: ReportData) {
  const grid = section(
    root,
    'Training',
    'VICReg loss = λ·invariance + μ·variance + ν·covariance, per optimisation step (light: raw; dark: exponential moving average). A term that stays flat while the others move is stuck.',
  );
  lossTerm(grid, d, 'loss', 'Total loss', 'loss', '');
  lossTerm(grid, d, 'invariance', 'Invariance term (MSE between the two views)', 'invariance', 'Should fall as the views agree.');
  lossTerm(grid, d, 'variance', 'Variance term (hinge on per-dimension std)', 'variance', 'Zero once every embedding dimension has std ≥ γ; rising means collapse pressure.');
  lossTerm(grid, d, 'covariance', 'Covariance term (off-diagonal covariance²)', 'covariance', 'Falls as the embedding dimensions decorrelate.');

  {
    const { fig, plot } = slot(grid, 'lr', 'Learning rate');
    const s = d.steps;
    if (!s || !hasData(s.lr)) missing(fig, plot, 'no "lr" in step records');
    else guard(fig, plot, () => lineChart(plot, { x: s.step, xLabel: 'step', yLabel: 'learning rate', lines: [{ label: 'lr', data: s.lr, color: C.lr, width: 2 }] }));
  }
  {
    const { fig, plot } = slot(grid, 'throughput', 'Throughput');
    const s = d.steps;
    if (!s || !hasData(s.imagesPerSec)) missing(fig, plot, 'no "images_per_sec" in step records');
    else
      guard(fig, plot, () =>
        lineChart(plot, {
          x: s.step,
          xLabel: 'step',
          yLabel: 'images / s',
          yRange: (mn, mx) => [0, padRange(mn, mx)[1]],
          lines: [{ label: 'images/s', data: s.imagesPerSec, color: C.throughput, width: 1.5 }],
        }),
      );
  }
}

function evalSection(root: HTMLElement, d: ReportData) {
  const grid = section(
    root,
    'Evaluation',
    'Top-1 test accuracy of a kNN classifier and a linear probe on the frozen representation, for the trained encoder and for the same architecture at random initialisation. Grey dashed lines: the same classifiers on raw pixels.',
  );
  const { fig, plot } = slot(grid, 'accuracy', 'kNN and linear-probe accuracy', '');
  fig.classList.add('wide');
  const e = d.evals;
  if (!e || !(hasData(e.knn) || hasData(e.linear))) return missing(fig, plot, 'no "eval" records');
  const lines: Line[] = [];
  if (hasData(e.knn)) lines.push({ label: 'kNN (trained)', data: e.knn, color: C.knn, width: 2.5, points: true });
  if (hasData(e.linear)) lines.push({ label: 'linear probe (trained)', data: e.linear, color: C.linear, width: 2.5, points: true });
  if (hasData(e.knnInit)) lines.push({ label: 'kNN (random init)', data: e.knnInit, color: C.knn, width: 1.5, dash: [6, 4], points: true });
  if (hasData(e.linearInit)) lines.push({ label: 'linear (random init)', data: e.linearInit, color: C.linear, width: 1.5, dash: [6, 4], points: true });
  const flat = (v: number) => e.epoch.map(() => v);
  lines.push({ label: `kNN raw pixels ${fmtPct(d.baselines.knnRawPixels)}`, data: flat(d.baselines.knnRawPixels), color: C.ref, width: 1.5, dash: [3, 3] });
  lines.push({ label: `logistic reg. raw pixels ${fmtPct(d.baselines.linearRawPixels)}`, data: flat(d.baselines.linearRawPixels), color: '#444444', width: 1.5, dash: [10, 4] });
  const notes: string[] = [];
  if (!hasData(e.knnInit) && !hasData(e.linearInit)) notes.push('random-init accuracy: not recorded.');
  const last = e.epoch.length - 1;
  const lk = e.knn[last];
  const ll = e.linear[last];
  notes.unshift(`Last evaluation (epoch ${e.epoch[last]}): kNN ${lk == null ? 'n/a' : fmtPct(lk)}, linear ${ll == null ? 'n/a' : fmtPct(ll)}.`);
  fig.append(h('figcaption', {}, notes.join(' ')));
  guard(fig, plot, () =>
    lineChart(plot, {
      x: e.epoch,
      xLabel: 'epoch',
      xInt: true,
      yLabel: 'top-1 accuracy',
      yFmt: (v) => `${(v * 100).toFixed(0)}%`,
      yRange: (mn, mx) => {
        const [a, b] = padRange(mn, mx);
        return [Math.max(0, a), Math.min(1, b)];
      },
      lines,
    }),
  );
}

function collapseSection(root: HTMLElement, d: ReportData) {
  const grid = section(
    root,
    'Collapse',
    'Per-dimension standard deviation of the expander embeddings on a fixed batch. Collapse shows as the std falling towards zero (all inputs mapped to nearly the same point); VICReg’s variance term holds it near γ. Effective rank = exp(entropy of the normalised singular values) of the representation.',
  );
  const gamma = findGamma(d.config);
  {
    const { fig, plot } = slot(grid, 'std', 'Embedding std over time');
    const q = d.stdHist;
    const ep = d.epochs;
    if (q) {
      fig.append(h('figcaption', {}, `Quantiles over the ${q.dims} embedding dimensions; dotted: γ = ${gamma}.`));
      guard(fig, plot, () =>
        lineChart(plot, {
          x: q.step,
          xLabel: 'step',
          yLabel: 'std',
          yRange: (_mn, mx) => [0, padRange(0, Math.max(mx, gamma))[1]],
          lines: [
            { label: 'max', data: q.max, color: alpha(C.q, 0.35), width: 1 },
            { label: '90%', data: q.p90, color: alpha(C.q, 0.65), width: 1.5 },
            { label: 'median', data: q.median, color: C.q, width: 2.5, points: q.step.length < 40 },
            { label: '10%', data: q.p10, color: alpha(C.q, 0.65), width: 1.5 },
            { label: 'min', data: q.min, color: alpha(C.q, 0.35), width: 1 },
            { label: 'γ', data: q.step.map(() => gamma), color: C.ref, width: 1, dash: [2, 3] },
          ],
        }),
      );
    } else if (ep && hasData(ep.embStdMean)) {
      fig.append(h('figcaption', {}, `Mean over dimensions (std_hist: not recorded); dotted: γ = ${gamma}.`));
      guard(fig, plot, () =>
        lineChart(plot, {
          x: ep.step,
          xLabel: 'step',
          yLabel: 'std',
          yRange: (_mn, mx) => [0, padRange(0, Math.max(mx, gamma))[1]],
          lines: [
            { label: 'mean std', data: ep.embStdMean, color: C.q, width: 2.5, points: true },
            { label: 'γ', data: ep.step.map(() => gamma), color: C.ref, width: 1, dash: [2, 3] },
          ],
        }),
      );
    } else missing(fig, plot, 'no "std_hist" or "epoch" records');
  }
  {
    const { fig, plot } = slot(grid, 'std-profile', 'Per-dimension std, sorted');
    const q = d.stdHist;
    if (!q) missing(fig, plot, 'no "std_hist" records');
    else {
      const n = Math.max(q.first.std.length, q.last.std.length);
      const x = Array.from({ length: n }, (_, i) => i + 1);
      const pad = (xs: number[]): Num[] => x.map((_, i) => xs[i] ?? null);
      const lines: Line[] = [];
      if (q.first.step !== q.last.step) lines.push({ label: `epoch ${q.first.epoch} (step ${q.first.step})`, data: pad(q.first.std), color: '#999999', width: 2 });
      lines.push({ label: `epoch ${q.last.epoch} (step ${q.last.step})`, data: pad(q.last.std), color: C.q, width: 2.5 });
      lines.push({ label: 'γ', data: x.map(() => gamma), color: C.ref, width: 1, dash: [2, 3] });
      fig.append(h('figcaption', {}, 'Each embedding dimension’s std, largest first: a tail dropping to zero means dimensions have collapsed.'));
      guard(fig, plot, () => lineChart(plot, { x, xLabel: 'dimension (sorted by std)', yLabel: 'std', yRange: (_mn, mx) => [0, padRange(0, mx)[1]], lines }));
    }
  }
  {
    const { fig, plot } = slot(grid, 'effective-rank', 'Effective rank of the representation');
    const ep = d.epochs;
    if (!ep || !hasData(ep.effectiveRank)) missing(fig, plot, 'no "effective_rank" in epoch records');
    else {
      const lines: Line[] = [{ label: 'effective rank', data: ep.effectiveRank, color: '#2ca25f', width: 2.5, points: ep.step.length < 40 }];
      let y2: LineOpts['y2'];
      if (hasData(ep.embStdFracBelowGamma)) {
        lines.push({ label: 'fraction of dims with std < γ', data: ep.embStdFracBelowGamma, color: C.variance, width: 1.5, dash: [5, 3], scale: 'y2', points: ep.step.length < 40 });
        y2 = { label: 'fraction std < γ', fmt: (v) => `${Math.round(v * 100)}%`, range: [0, 1] };
      }
      const dims = [ep.reprDim != null ? `representation dim ${ep.reprDim}` : '', ep.embDim != null ? `embedding dim ${ep.embDim}` : ''].filter(Boolean).join(', ');
      if (dims) fig.append(h('figcaption', {}, `Upper bound: ${dims}.`));
      guard(fig, plot, () => lineChart(plot, { x: ep.step, xLabel: 'step', yLabel: 'effective rank', lines, y2, yRange: (_mn, mx) => [0, padRange(0, mx)[1]] }));
    }
  }
}

function findGamma(cfg: Record<string, unknown> | null): number {
  const look = (o: unknown, depth: number): number | null => {
    if (!o || typeof o !== 'object' || depth > 3) return null;
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (k === 'gamma' && typeof v === 'number') return v;
      const r = look(v, depth + 1);
      if (r !== null) return r;
    }
    return null;
  };
  return look(cfg, 0) ?? 1;
}

// ---------------------------------------------------------------- heatmaps

/** Diverging colour map (ColorBrewer RdBu): -1 blue, 0 white, +1 red. */
const RDBU: [number, number, number][] = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31],
];
function rdbu(v: number): string {
  const t = (Math.max(-1, Math.min(1, v)) + 1) / 2;
  const p = t * (RDBU.length - 1);
  const i = Math.min(RDBU.length - 2, Math.floor(p));
  const f = p - i;
  const a = RDBU[i]!;
  const b = RDBU[i + 1]!;
  return `rgb(${Math.round(a[0] + (b[0] - a[0]) * f)},${Math.round(a[1] + (b[1] - a[1]) * f)},${Math.round(a[2] + (b[2] - a[2]) * f)})`;
}

function heatmap(plot: HTMLElement, m: CorrMatrix) {
  const size = Math.min(300, plotWidth(plot) - 90);
  const cbW = 14;
  const W = size + 70;
  const H = size + 24;
  const dpr = window.devicePixelRatio || 1;
  const cv = h('canvas', { width: String(Math.round(W * dpr)), height: String(Math.round(H * dpr)), role: 'img' });
  cv.style.width = `${W}px`;
  cv.style.height = `${H}px`;
  cv.setAttribute('aria-label', `correlation matrix of ${m.dim} embedding dimensions`);
  const ctx = cv.getContext('2d')!;
  ctx.scale(dpr, dpr);
  const x0 = 4;
  const y0 = 4;
  const cell = size / m.dim;
  for (let i = 0; i < m.dim; i++)
    for (let j = 0; j < m.dim; j++) {
      ctx.fillStyle = rdbu(m.matrix[i * m.dim + j]!);
      ctx.fillRect(x0 + j * cell, y0 + i * cell, Math.ceil(cell), Math.ceil(cell));
    }
  ctx.strokeStyle = '#999';
  ctx.lineWidth = 1;
  ctx.strokeRect(x0 + 0.5, y0 + 0.5, size, size);
  ctx.fillStyle = '#333';
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.fillText(`dimension 1 … ${m.dim}`, x0 + size / 2, y0 + size + 15);
  // colour bar
  const cx = x0 + size + 16;
  for (let k = 0; k < size; k++) {
    ctx.fillStyle = rdbu(1 - (2 * k) / (size - 1));
    ctx.fillRect(cx, y0 + k, cbW, 1.5);
  }
  ctx.strokeRect(cx + 0.5, y0 + 0.5, cbW, size);
  ctx.textAlign = 'left';
  ctx.fillStyle = '#333';
  for (const [v, lab] of [
    [1, '+1'],
    [0, '0'],
    [-1, '−1'],
  ] as const) {
    const y = y0 + ((1 - v) / 2) * size;
    ctx.fillText(lab, cx + cbW + 4, Math.min(y0 + size, Math.max(y0 + 9, y + 4)));
  }
  plot.append(cv);
}

function corrSection(root: HTMLElement, d: ReportData) {
  const grid = section(
    root,
    'Decorrelation',
    'Correlation matrix of the first embedding dimensions on the fixed batch, before training and at the end. VICReg’s covariance term pushes the off-diagonal towards zero (white); the diagonal is 1.',
  );
  const one = (name: string, title: string, m: CorrMatrix | null, what: string) => {
    const { fig, plot } = slot(grid, name, title);
    if (!m) return missing(fig, plot, what);
    fig.append(h('figcaption', {}, `epoch ${m.epoch}, step ${m.step}, ${m.dim}×${m.dim}; mean |off-diagonal| = ${m.meanAbsOffDiag.toFixed(3)}`));
    guard(fig, plot, () => heatmap(plot, m));
  };
  one('corr-start', 'Correlation at the start', d.corrStart, 'no "corr" record');
  one('corr-end', 'Correlation at the end', d.corrEnd, d.corrStart ? 'only one "corr" record' : 'no "corr" record');
}

// ---------------------------------------------------------------- PCA

/** uPlot `paths` builder that draws a series' points itself (mode 2: data = [xs, ys]). */
function scatterPaths(fill: string): uPlot.Series.PathBuilder {
  return (u, si) => {
    const [xs, ys] = u.data[si] as unknown as [number[], number[]];
    const ctx = u.ctx;
    const r = 2.4 * (window.devicePixelRatio || 1);
    const { left, top, width, height } = u.bbox;
    const p = new Path2D();
    for (let i = 0; i < xs.length; i++) {
      const cx = u.valToPos(xs[i]!, 'x', true);
      const cy = u.valToPos(ys[i]!, 'y', true);
      if (cx < left || cx > left + width || cy < top || cy > top + height) continue;
      p.moveTo(cx + r, cy);
      p.arc(cx, cy, r, 0, 2 * Math.PI);
    }
    ctx.save();
    ctx.fillStyle = fill;
    ctx.fill(p);
    ctx.restore();
    return null;
  };
}

function pcaSection(root: HTMLElement, d: ReportData) {
  const grid = section(root, 'Representation', '');
  const { fig, plot } = slot(grid, 'pca', 'PCA of test representations');
  fig.classList.add('wide');
  const p = d.pca;
  if (!p) return missing(fig, plot, 'no "pca" record');
  fig.append(h('figcaption', {}, `First two principal components of ${p.points.length} test representations (epoch ${p.epoch}), coloured by class. Click a legend entry to hide a class.`));
  const labels = [...new Set(p.points.map((q) => q[2]))].sort((a, b) => a - b);
  const data: uPlot.AlignedData = [
    null as unknown as number[],
    ...labels.map((l) => {
      const pts = p.points.filter((q) => q[2] === l);
      return [pts.map((q) => q[0]), pts.map((q) => q[1])] as unknown as number[];
    }),
  ];
  guard(fig, plot, () => {
    const w = Math.min(plotWidth(plot), 900);
    new uPlot(
      {
        mode: 2,
        width: w,
        height: Math.min(520, Math.round(w * 0.6)),
        scales: { x: { time: false, range: (_u, mn, mx) => padRange(mn, mx) }, y: { range: (_u, mn, mx) => padRange(mn, mx) } },
        axes: [{ label: 'PC 1', values: (_u, vs) => vs.map(fmtNum) }, { label: 'PC 2', size: 56, values: (_u, vs) => vs.map(fmtNum) }],
        cursor: { show: false },
        legend: { live: false },
        series: [
          {},
          ...labels.map((l) => {
            const col = CLASS_COLORS[((l % 10) + 10) % 10]!;
            return {
              label: d.classes[l] ?? `class ${l}`,
              stroke: col,
              fill: alpha(col, 0.7),
              paths: scatterPaths(alpha(col, 0.75)),
              points: { show: false },
            } as uPlot.Series;
          }),
        ],
      },
      data,
      plot,
    );
  });
}

// ---------------------------------------------------------------- facts and tables

function flatten(o: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    let s: string;
    if (typeof o === 'number') s = Number.isInteger(o) ? String(o) : String(Number(o.toPrecision(6)));
    else if (typeof o === 'string') s = o;
    else s = JSON.stringify(o);
    if (s.length > 300) s = `${s.slice(0, 300)}…`;
    out.push([prefix, s]);
  }
  return out;
}

function table(rows: [string, string][]): HTMLElement {
  return h('table', { class: 'kv' }, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))));
}

function findKey(o: unknown, pred: (k: string) => boolean): unknown {
  if (!o || typeof o !== 'object') return undefined;
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) if (pred(k)) return v;
  for (const v of Object.values(o as Record<string, unknown>)) {
    const r = findKey(v, pred);
    if (r !== undefined) return r;
  }
  return undefined;
}

function median(xs: Num[]): number | null {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)]! : null;
}

function factsSection(root: HTMLElement, d: ReportData) {
  const facts: [string, string][] = [];
  const s = d.steps;
  const e = d.evals;
  const adapter = findKey(d.summary, (k) => k === 'adapter') ?? findKey(d.config, (k) => k === 'adapter');
  facts.push(['adapter', adapter === undefined ? 'not recorded' : typeof adapter === 'string' ? adapter : flatten(adapter).map(([, v]) => v).filter(Boolean).join(' · ')]);
  const tp = findKey(d.summary, (k) => /images_per_sec|throughput/i.test(k));
  const tpMed = s ? median(s.imagesPerSec) : null;
  facts.push([
    'throughput',
    typeof tp === 'number' ? `${fmtNum(tp)} images/s (summary)` : tpMed !== null ? `${fmtNum(tpMed)} images/s (median over steps)` : 'not recorded',
  ]);
  if (s) {
    const lastLoss = s.lossEma[s.lossEma.length - 1];
    facts.push(['steps', `${s.step[s.step.length - 1]} (${s.recorded} step records)`]);
    facts.push(['final loss (smoothed)', lastLoss == null ? 'not recorded' : fmtNum(lastLoss)]);
    const t = s.time[s.time.length - 1];
    if (t != null) facts.push(['training time', t >= 120 ? `${(t / 60).toFixed(1)} min` : `${t.toFixed(1)} s`]);
  } else facts.push(['steps', 'not recorded']);
  if (e) {
    const i = e.epoch.length - 1;
    const f = (v: Num | undefined) => (v == null ? 'not recorded' : fmtPct(v));
    facts.push(['kNN top-1 (trained / random init)', `${f(e.knn[i])} / ${f(e.knnInit[i])}`]);
    facts.push(['linear top-1 (trained / random init)', `${f(e.linear[i])} / ${f(e.linearInit[i])}`]);
  } else facts.push(['accuracy', 'not recorded']);
  const er = d.epochs?.effectiveRank.filter((v): v is number => v !== null);
  facts.push(['effective rank (last)', er && er.length ? fmtNum(er[er.length - 1]!) : 'not recorded']);

  const sec = h('section', { class: 'facts' }, h('h2', {}, 'Run'));
  const cols = h('div', { class: 'cols' });
  cols.append(h('div', {}, h('h3', {}, 'Key numbers'), table(facts)));
  cols.append(h('div', {}, h('h3', {}, 'Configuration (config.json)'), d.config ? table(flatten(d.config)) : h('p', { class: 'missing' }, 'not recorded')));
  cols.append(h('div', {}, h('h3', {}, 'Summary (summary.json)'), d.summary ? table(flatten(d.summary)) : h('p', { class: 'missing' }, 'not recorded')));
  sec.append(cols);
  root.append(sec);
}

// ---------------------------------------------------------------- main

function main() {
  const el = document.getElementById('report-data');
  const d = JSON.parse(el?.textContent ?? 'null') as ReportData;
  const root = document.getElementById('report')!;
  document.title = `${d.title} — VICReg report`;
  root.append(
    h('header', {}, h('h1', {}, d.title), h('p', { class: 'meta' }, `${d.runDir} · report written ${d.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`)),
  );
  if (d.notes.length) root.append(h('ul', { class: 'notes' }, ...d.notes.map((n) => h('li', {}, n))));
  factsSection(root, d);
  trainingSection(root, d);
  evalSection(root, d);
  collapseSection(root, d);
  corrSection(root, d);
  pcaSection(root, d);
  document.body.dataset.ready = '1';
}

main();
