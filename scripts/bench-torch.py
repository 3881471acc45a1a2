#!/usr/bin/env python3
"""The PyTorch peer of `npm run bench:server`: Cohen et al.'s smoothing loop (noise + model, counts
per class, as in their `core.py` `_sample_noise`) on the same ONNX weights, to compare rs-arena's
serving path with the usual research code on the same CPU. The ONNX graph is read with the `onnx`
package and run as torch operations by a small interpreter of the operators the shipped
Fashion-MNIST CNNs use (Sub, Div, Conv, Relu, MaxPool, Flatten, Gemm); no onnx2torch needed.
Prints one JSON line: queries/s and forward passes/s at the given n.

  python3 scripts/bench-torch.py --model models/fmnist-cnn.onnx --n 100 --sigma 0.25 --seconds 4
"""
import argparse
import json
import time

import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F


class OnnxChain(torch.nn.Module):
    """The ONNX graph's nodes in order, each as the equivalent torch operation."""

    def __init__(self, path):
        super().__init__()
        graph = onnx.load(path).graph
        self.weights = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in graph.initializer}
        self.nodes = [(n.op_type, list(n.input), list(n.output), {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}) for n in graph.node]
        self.input = graph.input[0].name
        self.output = graph.output[0].name

    def forward(self, x):
        values = dict(self.weights)
        values[self.input] = x
        for op, ins, outs, attrs in self.nodes:
            a = [values[i] for i in ins]
            if op == 'Sub':
                y = a[0] - a[1]
            elif op == 'Div':
                y = a[0] / a[1]
            elif op == 'Conv':
                pads = attrs.get('pads', [0, 0, 0, 0])
                assert pads[0] == pads[2] and pads[1] == pads[3], 'asymmetric padding'
                y = F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride=attrs.get('strides', 1), padding=pads[:2], dilation=attrs.get('dilations', 1), groups=attrs.get('group', 1))
            elif op == 'Relu':
                y = F.relu(a[0])
            elif op == 'MaxPool':
                y = F.max_pool2d(a[0], attrs['kernel_shape'], stride=attrs.get('strides'), padding=attrs.get('pads', [0, 0, 0, 0])[:2], ceil_mode=bool(attrs.get('ceil_mode', 0)))
            elif op == 'Flatten':
                y = torch.flatten(a[0], attrs.get('axis', 1))
            elif op == 'Gemm':
                w = a[1].t() if attrs.get('transB', 0) else a[1]
                y = attrs.get('alpha', 1.0) * (a[0] @ w) + attrs.get('beta', 1.0) * a[2]
            else:
                raise NotImplementedError(op)
            values[outs[0]] = y
        return values[self.output]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True)
    p.add_argument('--n', type=int, default=100)
    p.add_argument('--sigma', type=float, default=0.25)
    p.add_argument('--seconds', type=float, default=4)
    p.add_argument('--batch', type=int, default=1000, help="Cohen et al.'s batch size for the noisy copies")
    args = p.parse_args()
    model = OnnxChain(args.model).eval()
    torch.manual_seed(0)
    x = torch.rand(1, 28, 28)
    classes = model(x.unsqueeze(0)).shape[1]

    def sample_noise(x, num):
        # Cohen et al., core.py: noisy copies in batches, argmax per copy, counts per class.
        counts = torch.zeros(classes, dtype=torch.long)
        remaining = num
        with torch.no_grad():
            while remaining > 0:
                this_batch = min(args.batch, remaining)
                remaining -= this_batch
                batch = x.repeat((this_batch, 1, 1, 1))
                noise = torch.randn_like(batch) * args.sigma
                predictions = model(batch + noise).argmax(1)
                counts += torch.bincount(predictions, minlength=classes)
        return counts

    sample_noise(x, args.n)  # warm-up
    queries = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        sample_noise(x, args.n)
        queries += 1
    elapsed = time.perf_counter() - t0
    print(json.dumps({'queriesPerSecond': queries / elapsed, 'passesPerSecond': queries * args.n / elapsed, 'threads': torch.get_num_threads(), 'n': args.n, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
