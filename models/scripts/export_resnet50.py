"""Export torchvision's ResNet50 to ONNX for rs-arena, with ImageNet normalization folded in.

    /usr/bin/python3 models/scripts/export_resnet50.py                 # IMAGENET1K_V2 weights (needs them cached or internet)
    /usr/bin/python3 models/scripts/export_resnet50.py --weights none  # random weights: an offline smoke test
    /usr/bin/python3 models/scripts/export_resnet50.py --out /tmp/r50.onnx

The graph takes float32 [N,3,224,224] RGB pixels in [0,1] (the space where randomized-smoothing
noise is added), normalizes with mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) as its
first operation, and outputs logits [N,1000]; the batch dimension is dynamic. It then prints the
manifest entry to add to models/manifest.json (source "external", with the file's sha256), and the
server reports the model as missing until the file is in models/imagenet/ (or $RS_ARENA_IMAGENET_DIR).
Needs torch and torchvision (Debian: python3-torch python3-torchvision python3-onnx).
"""
import argparse, hashlib, json, os

import torch
import torch.nn as nn

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class Normalized(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.net = net

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_dir = os.environ.get("RS_ARENA_IMAGENET_DIR", os.path.join(here, "..", "imagenet"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="IMAGENET1K_V2", help="torchvision weights enum name, or 'none'")
    ap.add_argument("--out", default=os.path.join(default_dir, "resnet50.onnx"))
    ap.add_argument("--id", default="imagenet-resnet50")
    args = ap.parse_args()

    import torchvision

    weights = None if args.weights.lower() == "none" else getattr(torchvision.models.ResNet50_Weights, args.weights)
    model = Normalized(torchvision.models.resnet50(weights=weights)).eval()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    dummy = torch.rand(2, 3, 224, 224)
    torch.onnx.export(model, dummy, args.out, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13, do_constant_folding=True)

    import onnx

    onnx.checker.check_model(onnx.load(args.out))
    with open(args.out, "rb") as f:
        blob = f.read()
    entry = {
        "id": args.id,
        "description": f"torchvision ResNet50 ({args.weights}), ImageNet normalization folded into the graph",
        "source": "external",
        "file": os.path.basename(args.out),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
        "dataset": "imagenet",
        "input": {"name": "input", "shape": [3, 224, 224], "range": [0, 1], "normalization": None},
        "output": {"name": "output", "classes": 1000},
        "classNamesFile": "labels.tsv",
        "provenance": f"exported by models/scripts/export_resnet50.py from torchvision {torchvision.__version__} weights {args.weights}",
    }
    print(f"wrote {args.out} ({len(blob) / 1e6:.1f} MB). Add this entry to models/manifest.json:")
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
