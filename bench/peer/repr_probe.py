"""Which features of a trained run's encoder give the best kNN? PyTorch, on the run's export.

    /usr/bin/python3 bench/peer/repr_probe.py RUN_DIR [DATA_DIR]

Loads RUN_DIR/encoder.py and encoder.safetensors (every run writes them), computes the last
block's map for the 60000 + 10000 Fashion-MNIST images, and runs the engine's kNN protocol
(k = 20, cosine, votes exp(sim / 0.07), top-1 on the test set) on several poolings of that map,
plain and centred (the training features' mean subtracted before the L2 normalisation, as
SimpleShot's CL2N). The first line is the run's own representation: it must equal the run's
summary.json knn_top1 (checked: 88.12% both, 2026-12-07). Answers a question about the
representation without retraining; a pooling also changes what training learns, so a winner
here still needs a training run. Needs only torch (Debian's python3-torch) and numpy.
"""
import gzip
import importlib.util
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
run = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 else '/usr/share/datasets/fashion-mnist'
spec = importlib.util.spec_from_file_location('enc', f'{run}/encoder.py')
enc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(enc)


def idx(name, offset):
    with gzip.open(f'{data}/{name}') as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset).copy()


xtr = idx('train-images-idx3-ubyte.gz', 16).reshape(-1, 28, 28)
ytr = torch.tensor(idx('train-labels-idx1-ubyte.gz', 8).astype(np.int64))
xte = idx('t10k-images-idx3-ubyte.gz', 16).reshape(-1, 28, 28)
yte = torch.tensor(idx('t10k-labels-idx1-ubyte.gz', 8).astype(np.int64))
m = enc.build_encoder()
m.load_state_dict(enc.load_weights(f'{run}/encoder.safetensors'))
m.eval()
body = torch.nn.Sequential(*[getattr(m, str(i)) for i in range(len(enc.CONV))])


def maps(x):
    with torch.no_grad():
        return torch.cat([body(enc.preprocess(x[i:i + 2000])) for i in range(0, len(x), 2000)])


def knn(ftr, fte, k=20, t=0.07):
    ftr, fte = F.normalize(ftr, dim=1), F.normalize(fte, dim=1)
    # A 1x1 convolution runs on oneDNN; Debian's torch multiplies matrices with the reference BLAS.
    w = ftr[:, :, None, None].contiguous()
    correct = 0
    for i in range(0, len(fte), 1000):
        sim = F.conv2d(fte[i:i + 1000, :, None, None], w).flatten(1)
        v, j = sim.topk(k, dim=1)
        votes = torch.zeros(len(v), 10).scatter_add_(1, ytr[j], (v / t).exp())
        correct += (votes.argmax(1) == yte[i:i + 1000]).sum().item()
    return 100 * correct / len(fte)


mtr, mte = maps(xtr), maps(xte)
# The run's own pooling is the exported module's; the others are what it is compared with.
variants = {f'the run\'s own ({enc.REPR_POOL_TYPE}, grid {enc.REPR_GRID})': m.pool}
if enc.REPR_POOL:
    k, s = enc.REPR_POOL
    other, name = (F.avg_pool2d, 'avg') if enc.REPR_POOL_TYPE == 'max' else (F.max_pool2d, 'max')
    variants[f'{name} {k}x{k} stride {s}'] = lambda x: other(x, k, s)
    variants[f'max and avg {k}x{k} stride {s}, concatenated'] = lambda x: torch.cat([F.max_pool2d(x, k, s), F.avg_pool2d(x, k, s)], 1)
variants['max 4x4 stride 3 (2x2 grid on 7x7)'] = lambda x: F.max_pool2d(x, 4, 3)
variants['global max'] = lambda x: F.adaptive_max_pool2d(x, 1)
variants['the whole map'] = lambda x: x
for name, pool in variants.items():
    with torch.no_grad():
        a, b = pool(mtr).flatten(1), pool(mte).flatten(1)
    mu = a.mean(0)
    print(f'{name:48s} R={a.shape[1]:5d}  kNN {knn(a, b):.2f}%  centred {knn(a - mu, b - mu):.2f}%', flush=True)
