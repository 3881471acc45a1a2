"""Train the shipped Fashion-MNIST classifiers and export them to ONNX.

    /usr/bin/python3 models/train/train.py            # all three variants (about 40 min on 2 cores)
    /usr/bin/python3 models/train/train.py --only standard

Variants share one small CNN (about 8.5 MFLOPs per image) whose first layer normalizes, so the ONNX
input is raw pixels in [0,1] and randomized-smoothing noise can be added in pixel space:
  standard   plain training                                  -> models/fmnist-cnn.onnx
  randtrain  Gaussian noise augmentation, sigma = 0.25       -> models/fmnist-cnn-randtrain.onnx
             (Cohen et al.: every training image gets x + N(0, sigma^2 I), unclipped)
  advtrain   L2 PGD adversarial training (Madry et al.)      -> models/fmnist-cnn-advtrain.onnx
Writes models/train/report.json (accuracies, timings, hyperparameters) for the manifest.
Needs Debian's python3-torch, python3-onnx and dataset-fashion-mnist.
"""
import argparse, gzip, hashlib, json, os, random, struct, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
SEED = 20221


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, rank = struct.unpack(">HBB", raw[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load(split):
    x = read_idx(f"{DATA}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(f"{DATA}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


class Net(nn.Module):
    """Normalize -> [conv3x3-BN-ReLU-maxpool] x2 -> FC 128 -> FC 10."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN))
        self.register_buffer("std", torch.tensor(STD))
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.drop(F.relu(self.fc1(x.flatten(1))))
        return self.fc2(x)


def flops():
    """Multiply-adds x 2 of one forward pass (convolutions and linear layers)."""
    macs = 28 * 28 * 32 * 1 * 9 + 14 * 14 * 64 * 32 * 9 + 3136 * 128 + 128 * 10
    return 2 * macs


def augment(x, gen):
    """Random shifts of up to 2 pixels (pad-and-crop) and horizontal flips."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2))
    dx = torch.randint(0, 5, (n,), generator=gen)
    dy = torch.randint(0, 5, (n,), generator=gen)
    idx = torch.arange(28)
    rows = (dy[:, None] + idx[None, :])[:, None, :, None].expand(n, 1, 28, 32)
    out = torch.gather(padded, 2, rows)
    cols = (dx[:, None] + idx[None, :])[:, None, None, :].expand(n, 1, 28, 28)
    out = torch.gather(out, 3, cols)
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def pgd_l2(model, x, y, eps, steps, gen):
    """L2 PGD in [0,1] pixel space from a random start inside the ball (Madry et al.)."""
    step = 2.5 * eps / steps
    delta = torch.randn(x.shape, generator=gen)
    delta = delta / delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1) * eps * torch.rand(x.shape[0], 1, 1, 1, generator=gen)
    delta = ((x + delta).clamp(0, 1) - x).detach()
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x + delta), y)
        (grad,) = torch.autograd.grad(loss, delta)
        g = grad / (grad.flatten(1).norm(dim=1).view(-1, 1, 1, 1) + 1e-12)
        delta = delta.detach() + step * g
        norms = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
        delta = delta * torch.clamp(eps / (norms + 1e-12), max=1.0)
        delta = ((x + delta).clamp(0, 1) - x).detach()
    return (x + delta).detach()


@torch.no_grad()
def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += (model(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum().item()
    return correct / len(x)


def robust_accuracy(model, x, y, eps, steps, gen, batch=500):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        xa = pgd_l2(model, x[i : i + batch], y[i : i + batch], eps, steps, gen)
        with torch.no_grad():
            correct += (model(xa).argmax(1) == y[i : i + batch]).sum().item()
    return correct / len(x)


VARIANTS = {
    "standard": dict(id="fmnist-cnn", epochs=15, noise=0.0, adv=None),
    "randtrain": dict(id="fmnist-cnn-randtrain", epochs=15, noise=0.25, adv=None),
    "advtrain": dict(id="fmnist-cnn-advtrain", epochs=10, noise=0.0, adv=dict(eps=1.0, steps=3)),
}


def train(name, cfg, xtr, ytr, xte, yte):
    torch.manual_seed(SEED)
    random.seed(SEED)
    np.random.seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = Net()
    batch, lr = 128, 0.01
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = (len(xtr) + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=cfg["epochs"] * steps_per_epoch, pct_start=0.25)
    t0 = time.time()
    for epoch in range(cfg["epochs"]):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(xtr), batch):
            idx = perm[i : i + batch]
            x, y = augment(xtr[idx], gen), ytr[idx]
            if cfg["noise"] > 0:
                x = x + cfg["noise"] * torch.randn(x.shape, generator=gen)
            if cfg["adv"]:
                model.eval()  # attack the BN statistics the model is evaluated with
                x = pgd_l2(model, x, y, cfg["adv"]["eps"], cfg["adv"]["steps"], gen)
                model.train()
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        acc = accuracy(model, xte, yte)
        print(f"[{name}] epoch {epoch + 1}/{cfg['epochs']} loss {total / seen:.4f} test acc {acc:.4f} ({time.time() - t0:.0f}s)", flush=True)
    seconds = time.time() - t0
    model.eval()
    return model, seconds


def export(model, path):
    import onnx

    model.eval()
    dummy = torch.rand(2, 1, 28, 28)
    torch.onnx.export(
        model, dummy, path, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13, do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(path))
    with open(path, "rb") as f:
        blob = f.read()
    return hashlib.sha256(blob).hexdigest(), len(blob)


def write_sample(xte_u8, yte, count=1000):
    """The first `count` test images and labels as gzipped IDX files with reproducible bytes."""
    os.makedirs(f"{MODELS}/data", exist_ok=True)
    img = struct.pack(">HBBIII", 0, 8, 3, count, 28, 28) + xte_u8[:count].tobytes()
    lab = struct.pack(">HBBI", 0, 8, 1, count) + yte[:count].numpy().astype(np.uint8).tobytes()
    for name, blob in [("fmnist-t10k-1k-images-idx3-ubyte.gz", img), ("fmnist-t10k-1k-labels-idx1-ubyte.gz", lab)]:
        with open(f"{MODELS}/data/{name}", "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
                g.write(blob)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=list(VARIANTS))
    args = ap.parse_args()
    torch.set_num_threads(2)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    write_sample(read_idx(f"{DATA}/t10k-images-idx3-ubyte.gz"), yte)
    report_path = f"{HERE}/report.json"
    report = json.load(open(report_path)) if os.path.exists(report_path) else {}
    for name, cfg in VARIANTS.items():
        if args.only and name != args.only:
            continue
        model, seconds = train(name, cfg, xtr, ytr, xte, yte)
        path = f"{MODELS}/{cfg['id']}.onnx"
        sha, size = export(model, path)
        entry = dict(
            id=cfg["id"], variant=name, file=os.path.basename(path), sha256=sha, bytes=size, flops=flops(),
            test_accuracy=accuracy(model, xte, yte), sample_accuracy=accuracy(model, xte[:1000], yte[:1000]),
            train_seconds=round(seconds, 1), epochs=cfg["epochs"], seed=SEED, torch=torch.__version__,
            recipe=dict(optimizer="SGD nesterov momentum 0.9, weight decay 5e-4", schedule="OneCycle max_lr 0.1", batch=128,
                        augmentation="random 2-pixel shifts, horizontal flips", noise_sigma=cfg["noise"], adversarial=cfg["adv"]),
        )
        if cfg["adv"]:
            gen = torch.Generator().manual_seed(SEED + 1)
            entry["robust_accuracy_l2_pgd"] = dict(
                eps=cfg["adv"]["eps"], steps=20, images=1000, accuracy=robust_accuracy(model, xte[:1000], yte[:1000], cfg["adv"]["eps"], 20, gen))
        if not cfg["adv"]:
            gen = torch.Generator().manual_seed(SEED + 1)
            entry["robust_accuracy_l2_pgd"] = dict(eps=1.0, steps=20, images=1000, accuracy=robust_accuracy(model, xte[:1000], yte[:1000], 1.0, 20, gen))
        report[cfg["id"]] = entry
        json.dump(report, open(report_path, "w"), indent=2)
        print(json.dumps(entry), flush=True)


if __name__ == "__main__":
    main()
