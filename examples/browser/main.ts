/**
 * The browser example: VICReg training on Fashion-MNIST in a page, with the package's browser
 * build ('vicreg-webgpu', bundled by examples/browser/build.mjs with the browser condition).
 * The user picks the two gzipped IDX training files; the page gunzips them with
 * DecompressionStream, parses the IDX bytes, uploads the images once (GpuDataset: batches and
 * both augmented views are made on the GPU) and runs the same recorded step as the CLI
 * (TrainStep: encoder + expander on a tape, the fused VICReg loss, backward, LARS, one submit).
 * The loss terms are read back every READ_EVERY steps, one read in flight, never every step.
 */
import {
  createGpu,
  GpuDataset,
  Lars,
  learningRate,
  parseIdxImages,
  parseIdxLabels,
  resolveConfig,
  TrainStep,
  VicregModel,
  type Gpu,
  type Split,
  type Tensor,
} from 'vicreg-webgpu';

const READ_EVERY = 10;
const SIZE = 28;

interface Reading {
  step: number;
  epoch: number;
  loss: number;
  invariance: number;
  variance: number;
  covariance: number;
  imagesPerSec: number;
}
/** What the page did, for a test (and the devtools console). */
interface ExampleState {
  state: 'idle' | 'loading' | 'training' | 'done' | 'stopped' | 'error';
  adapter: string;
  preset: string;
  n: number;
  readings: Reading[];
  error: string;
}
declare global {
  interface Window {
    vicregExample: ExampleState;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  images: $<HTMLInputElement>('images'),
  labels: $<HTMLInputElement>('labels'),
  preset: $<HTMLSelectElement>('preset'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  status: $<HTMLDivElement>('status'),
  chart: $<HTMLCanvasElement>('chart'),
};
const ex: ExampleState = { state: 'idle', adapter: '', preset: '', n: 0, readings: [], error: '' };
window.vicregExample = ex;
let stopRequested = false;
let gpuPromise: Promise<Gpu> | null = null;

function setState(state: ExampleState['state'], text: string): void {
  ex.state = state;
  document.body.dataset.state = state;
  ui.status.textContent = text;
  ui.status.className = state === 'error' ? 'error' : '';
  const busy = state === 'loading' || state === 'training';
  ui.start.disabled = busy;
  ui.stop.disabled = !busy;
  ui.preset.disabled = busy;
}

/** A picked file, gunzipped in the page (DecompressionStream). */
async function gunzip(file: File): Promise<Uint8Array> {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (head[0] !== 0x1f || head[1] !== 0x8b) throw new Error(`${file.name}: not a gzip file (pick the .gz files as distributed)`);
  const stream = file.stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function loadSplit(): Promise<Split> {
  const img = ui.images.files?.[0];
  const lbl = ui.labels.files?.[0];
  if (!img || !lbl) throw new Error('pick both files: train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz');
  const [imgBytes, lblBytes] = await Promise.all([gunzip(img), gunzip(lbl)]);
  const images = parseIdxImages(imgBytes, img.name);
  const labels = parseIdxLabels(lblBytes, lbl.name);
  if (images.rows !== SIZE || images.cols !== SIZE) throw new Error(`${img.name}: images are ${images.rows}x${images.cols}, expected ${SIZE}x${SIZE}`);
  if (labels.n !== images.n) throw new Error(`${lbl.name} has ${labels.n} labels but ${img.name} has ${images.n} images`);
  return { images: images.data, labels: labels.data, n: images.n };
}

const fmt = (v: number, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

function show(r: Reading, totalSteps: number): void {
  $('step').textContent = `${r.step} / ${totalSteps}`;
  $('epoch').textContent = String(r.epoch);
  $('loss').textContent = fmt(r.loss);
  $('inv').textContent = fmt(r.invariance);
  $('var').textContent = fmt(r.variance);
  $('cov').textContent = fmt(r.covariance);
  $('ips').textContent = r.imagesPerSec > 0 ? r.imagesPerSec.toFixed(0) : '…';
  drawChart();
}

/** The total loss over the steps read so far (plain canvas). */
function drawChart(): void {
  const c = ui.chart;
  const g = c.getContext('2d');
  if (!g) return;
  const w = c.width;
  const h = c.height;
  g.clearRect(0, 0, w, h);
  const rs = ex.readings;
  if (rs.length < 1) return;
  const ys = rs.map((r) => r.loss);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const span = hi - lo || 1;
  const maxStep = Math.max(rs[rs.length - 1]!.step, 1);
  const pad = 24;
  g.strokeStyle = '#2563eb';
  g.lineWidth = 2;
  g.beginPath();
  rs.forEach((r, i) => {
    const x = pad + ((w - 2 * pad) * r.step) / maxStep;
    const y = h - pad - ((h - 2 * pad) * (r.loss - lo)) / span;
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = '#555';
  g.font = '12px system-ui, sans-serif';
  g.fillText(`loss ${fmt(hi, 3)}`, 4, 14);
  g.fillText(`${fmt(lo, 3)}`, 4, h - 6);
  g.fillText(`step ${maxStep}`, w - 70, h - 6);
}

async function train(): Promise<void> {
  stopRequested = false;
  ex.readings = [];
  ex.error = '';
  drawChart();
  setState('loading', 'Reading and decompressing the files…');
  const split = await loadSplit();
  ex.n = split.n;
  setState('loading', `${split.n} images read. Opening the WebGPU device…`);
  gpuPromise ??= createGpu();
  const gpu = await gpuPromise;
  ex.adapter = gpu.adapterName;

  const preset = ui.preset.value;
  ex.preset = preset;
  const cfg = resolveConfig(preset);
  if (cfg.batchSize > split.n) throw new Error(`the ${preset} preset needs at least ${cfg.batchSize} images, the files have ${split.n}`);
  const data = new GpuDataset(gpu, split, SIZE, SIZE, { seed: cfg.seed, batchSize: cfg.batchSize, augment: cfg.augment });
  const spe = data.stepsPerEpoch;
  const totalSteps = spe * cfg.epochs;
  const sched = { baseLr: cfg.baseLr, batchSize: cfg.batchSize, warmupSteps: Math.round(cfg.warmupEpochs * spe), totalSteps };
  const model = new VicregModel(gpu, cfg.model, cfg.seed);
  const optim = new Lars(gpu, model.parameters(), { weightDecay: cfg.weightDecay, eta: cfg.larsEta });
  const step = new TrainStep(gpu, model, optim, data, { lambda: cfg.lambda, mu: cfg.mu, nu: cfg.nu, convention: 'official' });
  const what = `${preset} preset on ${split.n} images (${cfg.epochs} epochs × ${spe} steps, batch ${cfg.batchSize}) — ${gpu.adapterName}, ${gpu.tuning} kernels`;
  setState('training', `Training: ${what}`);

  // One read-back in flight: the loop records READ_EVERY more steps while the last terms come back.
  let pending: Promise<void> | null = null;
  let window0 = { time: performance.now(), step: 0 };
  const readTerms = (copy: Tensor, s: number): Promise<void> =>
    copy.read().then((t) => {
      copy.release();
      const now = performance.now();
      const ips = ((s + 1 - window0.step) * cfg.batchSize) / ((now - window0.time) / 1000);
      window0 = { time: now, step: s + 1 };
      if (t[4] !== 0 || !Array.from(t.slice(0, 4)).every(Number.isFinite)) throw new Error(`training diverged at step ${s + 1} (the loss is not finite)`);
      const r: Reading = { step: s + 1, epoch: data.epochOf(s) + 1, loss: t[0]!, invariance: t[1]!, variance: t[2]!, covariance: t[3]!, imagesPerSec: ips };
      ex.readings.push(r);
      show(r, totalSteps);
    });
  try {
    for (let s = 0; s < totalSteps && !stopRequested; s++) {
      const wantRead = (s + 1) % READ_EVERY === 0 || s === totalSteps - 1;
      const copy = step.run(s, learningRate(s, sched), wantRead);
      if (copy) {
        if (pending) await pending; // the previous read (READ_EVERY steps ago): keeps the queue short and lets the page paint
        pending = readTerms(copy, s);
      }
    }
    if (pending) await pending;
    await gpu.checkErrors();
  } finally {
    step.release();
    data.release();
  }
  const last = ex.readings[ex.readings.length - 1];
  const done = stopRequested ? 'stopped' : 'done';
  setState(done, `${done === 'done' ? 'Finished' : 'Stopped'} at step ${last?.step ?? 0}: ${what}`);
}

ui.start.addEventListener('click', () => {
  train().catch((e: unknown) => {
    ex.error = e instanceof Error ? e.message : String(e);
    setState('error', `Error: ${ex.error}`);
    console.error(e);
  });
});
ui.stop.addEventListener('click', () => {
  stopRequested = true;
});
if (!('gpu' in navigator)) setState('error', 'This browser has no WebGPU (navigator.gpu is undefined). Use Chromium or Chrome with WebGPU enabled.');
document.body.dataset.ready = '1';
