"""Loads an exported run in real PyTorch and compares with the engine (test/export/torch.test.ts).

    /usr/bin/python3 test/export/torch_check.py RUN_DIR WORK_DIR

RUN_DIR holds encoder.py, *.safetensors and features/test_repr.npy; WORK_DIR holds
test_images.u8 (uint8 [N, 28, 28]), engine_input.npy (the engine's normalised eval input) and
engine_embeddings.npy (the engine's expander output in eval mode). Prints one JSON object and
writes WORK_DIR/from_torch.safetensors (the loaded encoder's state_dict, by encoder.py's writer).
"""
import json
import sys

import numpy as np
import torch

run, work = sys.argv[1], sys.argv[2]
sys.path.insert(0, run)
import encoder as E  # noqa: E402  (the exported file)

torch.set_num_threads(2)


def rel(a, b):
    """max over rows of max|a - b| / max|b| (per-row relative error), and the same over all."""
    a = np.asarray(a, dtype=np.float64).reshape(len(b), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    d = np.abs(a - b).max(axis=1)
    s = np.maximum(np.abs(b).max(axis=1), 1e-30)
    return float((d / s).max()), float(np.abs(a - b).max() / np.abs(b).max())


out = {}
try:
    import safetensors  # noqa: F401
    out["reader"] = "safetensors"
except ImportError:
    out["reader"] = "fallback"

images = np.fromfile(f"{work}/test_images.u8", dtype=np.uint8).reshape(-1, 28, 28)
enc_file, exp_file = f"{run}/encoder.safetensors", f"{run}/expander.safetensors"

# The pure-Python reader must agree with load_weights (the safetensors package when installed).
sd = E.load_weights(enc_file)
fb = E.read_safetensors(enc_file)
out["reader_agrees"] = sorted(sd) == sorted(fb) and all(torch.equal(sd[k], fb[k]) and sd[k].dtype == fb[k].dtype for k in sd)
out["state_dict_names"] = list(sd)

m = E.build_encoder()
m.load_state_dict(fb, strict=True)  # raises on any missing, unexpected or mis-shaped tensor
m.eval()
x = E.preprocess(images)
out["input_shape"] = list(x.shape)
out["input_rel"] = rel(x.numpy(), np.load(f"{work}/engine_input.npy"))

engine = np.load(f"{run}/features/test_repr.npy")
with torch.no_grad():
    r = m(x)
    r64 = m.double()(x.double())
    m.float()
out["repr_shape"] = list(r.shape)
out["repr_rel"] = rel(r.numpy(), engine)
# Against a float64 evaluation of the same module: the engine's and torch's own float32 error.
out["engine_vs_f64"] = rel(engine, r64.numpy())
out["torch_vs_f64"] = rel(r.numpy(), r64.numpy())

e = E.build_expander()
e.load_state_dict(E.read_safetensors(exp_file), strict=True)
e.eval()
with torch.no_grad():
    z = e(r)
out["emb_rel"] = rel(z.numpy(), np.load(f"{work}/engine_embeddings.npy"))

# The way back (--init-from): the pure-Python writer; the TypeScript side loads this file.
E.write_safetensors(m.state_dict(), f"{work}/from_torch.safetensors", {"source": "torch_check.py"})

# Sensitivity: with batch statistics instead of the running ones the representation must differ
# (else this comparison could not catch a running-statistics bug).
m.train()
with torch.no_grad():
    out["train_mode_rel"] = rel(m(x).numpy(), engine)
print(json.dumps(out))
