/**
 * Export of a run's checkpoint to what a PyTorch user loads (docs/pytorch.md):
 *
 *   encoder.safetensors   the encoder's state_dict: per block i `i.conv.weight`, `i.bn.weight`,
 *                         `i.bn.bias`, `i.bn.running_mean`, `i.bn.running_var`,
 *                         `i.bn.num_batches_tracked` (int64 scalar)
 *   expander.safetensors  the expander's, laid out as main_vicreg.py's Projector
 *                         (Linear, BatchNorm1d, ReLU, ..., Linear): `3i.weight`, `3i.bias`,
 *                         `(3i+1).weight`, ... `(3i+1).num_batches_tracked`
 *   encoder.py            build_encoder(), build_expander(), preprocess(images), load_weights(path),
 *                         save_weights(state_dict, path)
 *
 * and the way back: loadInitWeights / applyInitWeights start a VicregModel's encoder from such
 * a file (`--init-from`). The engine name <-> state_dict name mapping is torchName().
 */
import { execFileSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { resolveAugment } from '../data/augment-params.js';
import { featureSizes, gridWindow, type ModelConfig, type VicregModel } from '../nn/model.js';
import type { Tensor } from '../tensor.js';
import type { TrainConfig } from '../train/config.js';
import { CHECKPOINT_DIR, findCheckpoint, loadCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { makeDirs, writeFileAtomic } from '../io/file-write.js';
import { readSafetensorsFile, writeSafetensorsFile } from './files.js';
import { toFloat32, type SafeTensor } from './safetensors.js';

export const ENCODER_FILE = 'encoder.safetensors';
export const EXPANDER_FILE = 'expander.safetensors';
export const ENCODER_PY = 'encoder.py';

const BN_FIELDS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

/**
 * The PyTorch state_dict name of an engine tensor (VicregModel.named()), relative to the
 * module build_encoder() / build_expander() returns; null for a name outside both.
 */
export function torchName(engine: string): string | null {
  let m = /^encoder\.(\d+)\.(conv\.weight|bn\.(?:weight|bias|running_mean|running_var))$/.exec(engine);
  if (m) return `${m[1]}.${m[2]}`;
  m = /^expander\.(\d+)\.(weight|bias)$/.exec(engine);
  if (m) return `${3 * Number(m[1])}.${m[2]}`;
  m = /^expander\.(\d+)\.bn\.(weight|bias|running_mean|running_var)$/.exec(engine);
  if (m) return `${3 * Number(m[1]) + 1}.${m[2]}`;
  return null;
}

interface Slot {
  torch: string;
  /** The engine's tensor, or null for num_batches_tracked (the engine does not count). */
  engine: string | null;
  shape: number[];
}

/** The encoder's state_dict for a model config, in PyTorch's order. */
export function encoderLayout(cfg: ModelConfig): Slot[] {
  const out: Slot[] = [];
  let cin = cfg.inChannels;
  cfg.conv.forEach(([cout, k], i) => {
    out.push({ torch: `${i}.conv.weight`, engine: `encoder.${i}.conv.weight`, shape: [cout, cin, k, k] });
    for (const f of BN_FIELDS) out.push({ torch: `${i}.bn.${f}`, engine: `encoder.${i}.bn.${f}`, shape: [cout] });
    out.push({ torch: `${i}.bn.num_batches_tracked`, engine: null, shape: [] });
    cin = cout;
  });
  return out;
}

/** The expander's state_dict (Projector layout of main_vicreg.py), in PyTorch's order. */
export function expanderLayout(cfg: ModelConfig): Slot[] {
  const last = cfg.conv[cfg.conv.length - 1]!;
  let fin = last[0] * (cfg.reprGrid ?? 1) ** 2;
  const out: Slot[] = [];
  cfg.expander.forEach((fout, i) => {
    out.push({ torch: `${3 * i}.weight`, engine: `expander.${i}.weight`, shape: [fout, fin] });
    out.push({ torch: `${3 * i}.bias`, engine: `expander.${i}.bias`, shape: [fout] });
    if (i < cfg.expander.length - 1) {
      for (const f of BN_FIELDS) out.push({ torch: `${3 * i + 1}.${f}`, engine: `expander.${i}.bn.${f}`, shape: [fout] });
      out.push({ torch: `${3 * i + 1}.num_batches_tracked`, engine: null, shape: [] });
    }
    fin = fout;
  });
  return out;
}

/** The commit of this source tree (short hash, `-dirty` when modified), or 'unknown'. */
function sourceCommit(): string {
  try {
    const cwd = dirname(fileURLToPath(import.meta.url));
    const run = (args: string[]) => execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim();
    const head = run(['rev-parse', '--short=12', 'HEAD']);
    return run(['status', '--porcelain', '--untracked-files=no']) ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** The evaluation input: size, normalisation, and the representation pooling window. */
export function evalGeometry(cfg: TrainConfig): { size: number; mean: number; std: number; grid: number; pool: { k: number; s: number } | null; reprDim: number } {
  const aug = resolveAugment(cfg.augment);
  const sizes = featureSizes(cfg.model, aug.size);
  const grid = cfg.model.reprGrid ?? 1;
  const channels = cfg.model.conv[cfg.model.conv.length - 1]![0];
  return {
    size: aug.size,
    mean: aug.mean,
    std: aug.std,
    grid,
    pool: grid > 1 ? gridWindow(sizes[sizes.length - 1]!, grid) : null,
    reprDim: channels * grid * grid,
  };
}

const py = (v: unknown) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : JSON.stringify(v));

/** encoder.py for a run's config: plain torch.nn, no dependency but torch. */
export function encoderPy(cfg: TrainConfig, meta: Record<string, string>): string {
  const g = evalGeometry(cfg);
  let cin = cfg.model.inChannels;
  const convs = cfg.model.conv.map(([cout, k, stride, pool]) => {
    const row = `    (${cin}, ${cout}, ${k}, ${stride}, ${(k - 1) >> 1}, ${py(pool)}),`;
    cin = cout;
    return row;
  });
  return `"""VICReg encoder exported by vicreg-webgpu (preset ${meta.preset}, step ${meta.step}, commit ${meta.commit}).

    from encoder import build_encoder, preprocess, load_weights
    m = build_encoder(); m.load_state_dict(load_weights("${ENCODER_FILE}")); m.eval()
    reprs = m(preprocess(images))  # uint8 [B, H, W] -> float32 [B, ${g.reprDim}]

In eval mode the module reproduces the engine's features/*_repr.npy (BatchNorm with the running
statistics). build_expander() is the VICReg expander (main_vicreg.py's Projector layout) for
${EXPANDER_FILE}. save_weights(m.state_dict(), path) writes weights for --init-from. Needs only
torch (>= 1.10) and numpy; uses the safetensors package when installed.
"""
import json
import os
import struct
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

# (in channels, out channels, kernel, stride, padding, 2x2 max pool after the ReLU)
CONV = [
${convs.join('\n')}
]
# Representation: REPR_POOL_TYPE ("avg" or "max") pool to a REPR_GRID x REPR_GRID grid (window,
# stride), flattened NCHW; REPR_GRID 1 is a global average pool.
REPR_GRID = ${g.grid}
REPR_POOL = ${g.pool ? `(${g.pool.k}, ${g.pool.s})` : 'None'}
REPR_POOL_TYPE = ${py(cfg.model.reprPool ?? 'avg')}
REPR_DIM = ${g.reprDim}
EXPANDER = ${py(cfg.model.expander)}
# Evaluation input: the whole image resized (bilinear) to SIZE x SIZE, then (x / 255 - MEAN) / STD.
SIZE = ${g.size}
MEAN = ${py(g.mean)}
STD = ${py(g.std)}


def build_encoder():
    """The encoder as torch.nn.Sequential: blocks "0", "1", ... (conv, bn, relu[, pool]), "pool", "flatten"."""
    layers = OrderedDict()
    for i, (cin, cout, k, stride, pad, pool) in enumerate(CONV):
        block = OrderedDict()
        block["conv"] = nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=False)
        block["bn"] = nn.BatchNorm2d(cout)
        block["relu"] = nn.ReLU(inplace=True)
        if pool:
            block["pool"] = nn.MaxPool2d(2, 2)
        layers[str(i)] = nn.Sequential(block)
    if REPR_GRID == 1:
        layers["pool"] = nn.AdaptiveAvgPool2d(1)
    else:
        layers["pool"] = nn.MaxPool2d(*REPR_POOL) if REPR_POOL_TYPE == "max" else nn.AvgPool2d(*REPR_POOL)
    layers["flatten"] = nn.Flatten()
    return nn.Sequential(layers)


def build_expander():
    """The expander: Linear, BatchNorm1d, ReLU, ..., Linear (state_dict names 0.weight, 1.running_mean, ...)."""
    layers = []
    fin = REPR_DIM
    for i, fout in enumerate(EXPANDER):
        layers.append(nn.Linear(fin, fout))
        if i < len(EXPANDER) - 1:
            layers += [nn.BatchNorm1d(fout), nn.ReLU(inplace=True)]
        fin = fout
    return nn.Sequential(*layers)


def preprocess(images):
    """uint8 images [B, H, W] (numpy or torch) -> the float32 input [B, 1, SIZE, SIZE] the engine evaluates."""
    x = torch.as_tensor(images)
    if x.dim() == 3:
        x = x[:, None]
    x = x.to(torch.float32)
    if tuple(x.shape[-2:]) != (SIZE, SIZE):
        # The engine samples as interpolate(mode="bilinear", align_corners=False), no antialiasing.
        x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    return (x / 255.0 - MEAN) / STD


_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}


def read_safetensors(path):
    """A minimal safetensors reader (little-endian hosts): {name: tensor}, for torch without the safetensors package."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = OrderedDict()
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        # bytearray: a writable copy (frombuffer warns on read-only bytes and shares memory).
        buf = bytearray(data[8 + n + begin:8 + n + end])
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out


def load_weights(path):
    """A state_dict from a .safetensors file (safetensors.torch.load_file when installed)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        return read_safetensors(path)
    return load_file(path)


def write_safetensors(tensors, path, metadata=None):
    """A minimal safetensors writer (little-endian hosts): {name: tensor} -> path, atomically."""
    names = {v: k for k, v in _DTYPES.items()}
    header = {"__metadata__": dict(metadata)} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    os.replace(path + ".tmp", path)


def save_weights(state_dict, path, metadata=None):
    """Writes a state_dict as .safetensors (e.g. for npm run train -- --init-from PATH)."""
    try:
        from safetensors.torch import save_file
    except ImportError:
        return write_safetensors(state_dict, path, metadata)
    save_file({k: v.contiguous() for k, v in state_dict.items()}, path, metadata)
`;
}

export interface ExportOptions {
  /** Overrides the commit recorded in the metadata (default: the checkpoint's, else this source tree's). */
  commit?: string;
}

function f32(ck: Checkpoint, slot: Slot, file: string): SafeTensor {
  const a = ck.tensors.get(slot.engine!);
  if (!a) throw new InputError('bad-file', `checkpoint ${file}: no tensor '${slot.engine}' (config and tensors disagree)`);
  if (a.shape.join('x') !== slot.shape.join('x')) {
    throw new InputError('bad-file', `checkpoint ${file}: '${slot.engine}' is [${a.shape}], its config says [${slot.shape}]`);
  }
  return { dtype: 'F32', shape: slot.shape, data: a.data };
}

/** Writes encoder/expander .safetensors and encoder.py for a loaded checkpoint; returns the paths. */
export async function exportCheckpoint(ck: Checkpoint, outDir: string, file = '(in memory)', opts: ExportOptions = {}): Promise<string[]> {
  const cfg = ck.header.config as TrainConfig;
  if (!cfg || typeof cfg !== 'object' || !cfg.model || !Array.isArray(cfg.model.conv) || !Array.isArray(cfg.model.expander)) {
    throw new InputError('bad-file', `checkpoint ${file}: its header holds no model configuration`);
  }
  const extraCommit = ck.header.extra?.commit;
  const meta: Record<string, string> = {
    format: 'pt',
    source: 'vicreg-webgpu',
    preset: String(cfg.preset),
    commit: opts.commit ?? (typeof extraCommit === 'string' ? extraCommit : sourceCommit()),
    step: String(ck.header.step),
    epoch: String(ck.header.epoch),
  };
  // Each step runs the encoder and expander on both views in training mode: two BN updates.
  const batches: SafeTensor = { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(2 * ck.header.step)) };
  const tensors = (layout: Slot[]): [string, SafeTensor][] => layout.map((s) => [s.torch, s.engine ? f32(ck, s, file) : batches]);
  const enc = tensors(encoderLayout(cfg.model));
  const exp = tensors(expanderLayout(cfg.model));
  const g = evalGeometry(cfg);
  makeDirs(outDir, 'the export directory');
  const files = [join(outDir, ENCODER_FILE), join(outDir, EXPANDER_FILE), join(outDir, ENCODER_PY)];
  writeSafetensorsFile(files[0]!, enc, { ...meta, module: 'encoder', input_size: String(g.size), mean: String(g.mean), std: String(g.std) });
  writeSafetensorsFile(files[1]!, exp, { ...meta, module: 'expander' });
  writeFileAtomic(files[2]!, encoderPy(cfg, meta));
  return files;
}

/**
 * Exports the latest checkpoint of `runDir` (a run directory, its checkpoint/ directory or the
 * checkpoint file) into `outDir` (default: the run directory): encoder.safetensors,
 * expander.safetensors, encoder.py, each written atomically. Returns the paths written.
 */
export async function exportRun(runDir: string, outDir?: string, opts: ExportOptions = {}): Promise<string[]> {
  let file: string;
  try {
    file = findCheckpoint(runDir);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.code, e.message.replace(/^--resume: /, ''));
    throw e;
  }
  const dir = dirname(file);
  const root = basename(dir) === CHECKPOINT_DIR ? dirname(dir) : dir;
  return exportCheckpoint(loadCheckpoint(file), outDir ?? root, file, opts);
}

export interface InitTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Reads encoder weights for `--init-from` from a .safetensors file holding the state_dict of
 * build_encoder() (names as in encoder.safetensors). Float tensors of any float dtype are
 * converted to float32; integer tensors are accepted only as `*.num_batches_tracked`.
 */
export function loadInitWeights(file: string): Map<string, InitTensor> {
  const st = readSafetensorsFile(file);
  const out = new Map<string, InitTensor>();
  for (const [name, t] of st.tensors) {
    const data = toFloat32(t) ?? (name.endsWith('.num_batches_tracked') ? Float32Array.from(t.data as ArrayLike<number>, Number) : null);
    if (!data) throw new InputError('bad-file', `${file}: tensor '${name}' is ${t.dtype}, want a floating-point dtype`);
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

/**
 * Checks `weights` (loadInitWeights) against the model's encoder tensors — the same names
 * (torchName of each `encoder.*` of model.named()) and shapes, nothing missing, nothing extra
 * but `num_batches_tracked` — and uploads them (parameters and BN running statistics). Throws a
 * one-line InputError naming the first mismatch; uploads nothing then. `source` names the file.
 */
export function applyInitWeights(model: VicregModel, weights: Map<string, InitTensor>, source = 'init weights'): void {
  const bad = (why: string): never => {
    throw new InputError('bad-file', `${source}: ${why}`);
  };
  const want = model.named().filter((n) => n.name.startsWith('encoder.'));
  const names = new Set<string>();
  const plan: { t: Tensor; data: Float32Array }[] = [];
  for (const n of want) {
    const name = torchName(n.name)!;
    names.add(name);
    const w = weights.get(name);
    if (!w) return bad(`no tensor '${name}' (this model's encoder needs [${n.t.shape}]; is it an ${ENCODER_FILE} of the same config?)`);
    if (w.shape.join('x') !== n.t.shape.join('x')) bad(`tensor '${name}' is [${w.shape}], this model's is [${n.t.shape}]`);
    plan.push({ t: n.t, data: w.data });
  }
  for (const [name, w] of weights) {
    if (names.has(name)) continue;
    const m = /^(.*)\.num_batches_tracked$/.exec(name);
    if (m && names.has(`${m[1]}.running_mean`) && w.shape.length === 0) continue;
    bad(`unexpected tensor '${name}' [${w.shape}] (this model's encoder has ${model.convs.length} blocks)`);
  }
  for (const { t, data } of plan) model.gpu.upload(t.buffer, data);
}
