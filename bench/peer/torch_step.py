"""The PyTorch peer of `bench step`: the same network (encoder.py written by the engine for the
preset), the official VICReg loss and LARS (facebookresearch/vicreg's), on random inputs, on
this CPU. Prints one JSON line: ms per step and pairs per second.

    /usr/bin/python3 bench/peer/torch_step.py DIR '{"batch":96,"steps":10,"threads":2,...}'
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, sys.argv[1])
from encoder import build_encoder, build_expander  # noqa: E402

cfg = json.loads(sys.argv[2])
torch.set_num_threads(int(cfg["threads"]))
torch.manual_seed(0)


class LARS(torch.optim.Optimizer):
    """facebookresearch/vicreg main_vicreg.py's LARS: no decay or adaptation for 1-D params."""

    def __init__(self, params, lr, weight_decay, momentum=0.9, eta=0.001):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, eta=eta))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                dp = p.grad
                if dp is None:
                    continue
                if p.ndim != 1:
                    dp = dp.add(p, alpha=g["weight_decay"])
                    pn, un = torch.norm(p), torch.norm(dp)
                    q = torch.where(pn > 0.0, torch.where(un > 0, (g["eta"] * pn / un), torch.ones_like(pn)), torch.ones_like(pn))
                    dp = dp.mul(q)
                st = self.state[p]
                if "mu" not in st:
                    st["mu"] = torch.zeros_like(p)
                mu = st["mu"]
                mu.mul_(g["momentum"]).add_(dp)
                p.add_(mu, alpha=-g["lr"])


def off_diagonal(x):
    n = x.shape[0]
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def vicreg(x, y, lam, mu, nu):
    n, d = x.shape
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + 0.0001)
    std_y = torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = off_diagonal(cov_x).pow_(2).sum().div(d) + off_diagonal(cov_y).pow_(2).sum().div(d)
    return lam * repr_loss + mu * std_loss + nu * cov_loss


enc, exp = build_encoder(), build_expander()
net = torch.nn.Sequential(enc, exp).train()
opt = LARS(net.parameters(), lr=0.1, weight_decay=cfg["wd"], eta=cfg["eta"])
B, S = int(cfg["batch"]), int(cfg["size"])
x1 = torch.randn(B, 1, S, S)
x2 = torch.randn(B, 1, S, S)


def step():
    opt.zero_grad(set_to_none=True)
    loss = vicreg(net(x1), net(x2), cfg["lambda"], cfg["mu"], cfg["nu"])
    loss.backward()
    opt.step()
    return loss


for _ in range(3):
    step()
times = []
for _ in range(int(cfg["steps"])):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
times.sort()
ms = 1000 * times[len(times) // 2]
print(json.dumps({"ms_per_step": ms, "pairs_per_sec": B * 1000 / ms, "torch": torch.__version__}))
