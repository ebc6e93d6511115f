/**
 * Cost of an encoder/expander config (src/train/config.ts ModelConfig JSON) in process CPU
 * seconds, which stay meaningful on a shared machine: eval forward per image and a full
 * training step (both views, loss, backward, LARS) per image pair; "2 idle cores" divides by 2.
 *
 *   node scripts/run.mjs bench/model-cost.ts '{"inChannels":1,"conv":[[24,5,2,true],[64,3,1,false]],"reprGrid":2,"expander":[256,256,256]}' [S] [B]
 */
import { createGpu } from '../src/gpu/device.js';
import { Tensor } from '../src/tensor.js';
import { Tape } from '../src/tape.js';
import { VicregModel } from '../src/nn/model.js';
import { Lars } from '../src/optim/lars.js';
import { vicregOp } from '../src/vicreg/loss.js';
const gpu = await createGpu();
const cfg = JSON.parse(process.argv[2]!);
const S = Number(process.argv[3] ?? 28);
const B = Number(process.argv[4] ?? 256);
const model = new VicregModel(gpu, cfg, 0);
const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
async function measure(n: number, f: () => void) {
  f(); await gpu.sync();
  const c0 = cpu(); const t0 = performance.now();
  for (let i = 0; i < n; i++) { f(); gpu.flush(); if (i % 2) await gpu.sync(); }
  await gpu.sync();
  const c = cpu() - c0; const w = (performance.now() - t0) / 1000;
  return { c, w };
}
const X = Tensor.from(gpu, rnd(1000 * S * S), [1000, 1, S, S]);
const fe = await measure(4, () => { model.encode(null, X, false).release(); });
console.log(`eval fwd: ${(fe.c / 4000 * 1e3).toFixed(3)} cpu-ms/img (wall ${(fe.w / 4000 * 1e3).toFixed(3)} ms/img) -> 140k imgs ~ ${(fe.c / 4000 * 140000 / 2).toFixed(0)} s on 2 idle cores`);
const v1 = Tensor.from(gpu, rnd(B * S * S), [B, 1, S, S]);
const v2 = Tensor.from(gpu, rnd(B * S * S), [B, 1, S, S]);
const params = model.parameters();
const opt = new Lars(gpu, params);
const seed = Tensor.from(gpu, new Float32Array([1, 0, 0, 0, 0]), [5]);
const tr = await measure(4, () => {
  const tape = new Tape(gpu); tape.watch(...params);
  const z1 = model.expand(tape, model.encode(tape, v1, true), true);
  const z2 = model.expand(tape, model.encode(tape, v2, true), true);
  const l = vicregOp(tape, z1, z2);
  tape.backward(l.terms, seed); opt.step(0.1); tape.dispose(); opt.zeroGrad();
});
const perPair = tr.c / (4 * B);
console.log(`train: ${(perPair * 1e3).toFixed(3)} cpu-ms/pair (wall ${(tr.w / 4 / B * 1e3).toFixed(3)}) -> ${(2 / perPair).toFixed(0)} pairs/s on 2 idle cores; 1 epoch ~ ${(60000 * perPair / 2).toFixed(0)} s`);
process.exit(0);
