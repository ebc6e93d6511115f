/** Float64 CPU references for src/eval: weighted kNN and the linear probe's gradient. */

function normalise(x: ArrayLike<number>, n: number, r: number): Float64Array {
  const out = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let k = 0; k < r; k++) ss += x[i * r + k]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
    for (let k = 0; k < r; k++) out[i * r + k] = x[i * r + k]! * inv;
  }
  return out;
}

/** DINO weighted kNN: top k by cosine similarity (ties to the smaller index), votes exp(sim / T). */
export function knnRef(
  train: ArrayLike<number>,
  trainLabels: ArrayLike<number>,
  test: ArrayLike<number>,
  testLabels: ArrayLike<number>,
  r: number,
  k: number,
  temperature: number,
  classes: number,
): { pred: Uint32Array; top1: number } {
  const ntr = trainLabels.length;
  const nte = testLabels.length;
  const a = normalise(test, nte, r);
  const b = normalise(train, ntr, r);
  const pred = new Uint32Array(nte);
  let correct = 0;
  const sims = new Float64Array(ntr);
  const order = Array.from({ length: ntr }, (_, i) => i);
  for (let i = 0; i < nte; i++) {
    for (let j = 0; j < ntr; j++) {
      let s = 0;
      for (let q = 0; q < r; q++) s += a[i * r + q]! * b[j * r + q]!;
      sims[j] = s;
    }
    order.sort((x, y) => sims[y]! - sims[x]! || x - y);
    const score = new Float64Array(classes);
    for (let q = 0; q < Math.min(k, ntr); q++) score[trainLabels[order[q]!]!]! += Math.exp(sims[order[q]!]! / temperature);
    let arg = 0;
    for (let c = 1; c < classes; c++) if (score[c]! > score[arg]!) arg = c;
    pred[i] = arg;
    if (arg === testLabels[i]) correct++;
  }
  return { pred, top1: correct / nte };
}

/** Column mean and 1/sqrt(var + eps) (population variance), as the probe standardises. */
export function standardiseRef(x: ArrayLike<number>, n: number, r: number, eps: number): { mean: Float64Array; invStd: Float64Array } {
  const mean = new Float64Array(r);
  const invStd = new Float64Array(r);
  for (let c = 0; c < r; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * r + c]!;
    const m = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i * r + c]! - m) ** 2;
    mean[c] = m;
    invStd[c] = 1 / Math.sqrt(v / n + eps);
  }
  return { mean, invStd };
}

/**
 * Mean softmax cross-entropy of the linear model z = xs W + b on standardised rows xs, and its
 * gradient with respect to the parameters laid out as [(R + 1), C] (the last row is the bias),
 * plus weightDecay * W (not on the bias).
 */
export function probeLossGradRef(
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  r: number,
  classes: number,
  params: ArrayLike<number>,
  mean: ArrayLike<number>,
  invStd: ArrayLike<number>,
  weightDecay: number,
): { loss: number; grad: Float64Array } {
  const n = labels.length;
  const grad = new Float64Array((r + 1) * classes);
  let loss = 0;
  const z = new Float64Array(classes);
  const xs = new Float64Array(r);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < r; k++) xs[k] = (x[i * r + k]! - mean[k]!) * invStd[k]!;
    for (let c = 0; c < classes; c++) {
      let s = params[r * classes + c]!;
      for (let k = 0; k < r; k++) s += xs[k]! * params[k * classes + c]!;
      z[c] = s;
    }
    const zmax = Math.max(...z);
    let den = 0;
    for (let c = 0; c < classes; c++) den += Math.exp(z[c]! - zmax);
    loss += -(z[labels[i]!]! - zmax - Math.log(den));
    for (let c = 0; c < classes; c++) {
      const g = (Math.exp(z[c]! - zmax) / den - (c === labels[i] ? 1 : 0)) / n;
      for (let k = 0; k < r; k++) grad[k * classes + c]! += g * xs[k]!;
      grad[r * classes + c]! += g;
    }
  }
  for (let k = 0; k < r * classes; k++) grad[k]! += weightDecay * params[k]!;
  return { loss: loss / n, grad };
}
