"""Write models/manifest.json from models/train/report.json (the committed Fashion-MNIST models)
plus the external ImageNet entries. Smoothed accuracies already recorded for an unchanged file
(same sha256) are kept; refresh them with `npm run models:accuracy -- --write`.

    /usr/bin/python3 models/train/manifest.py
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DESCRIPTIONS = {
    "standard": "Standard CNN (the paper's vanilla model)",
    "randtrain": "Same CNN trained with Gaussian noise augmentation, sigma 0.25 (Cohen et al.; the paper's RandTrain)",
    "advtrain": "Same CNN adversarially trained with L2 PGD, eps 1.0 (Madry et al.; the paper's AdvTrain)",
}
IMAGENET_INPUT = {
    "name": "input", "shape": [3, 224, 224], "range": [0, 1],
    "normalization": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
}
EXTERNAL = [
    {
        "id": "imagenet-mobilenetv2-int8",
        "description": "MobileNetV2-1.0 int8 from the ONNX Model Zoo (quantizes its input; ties possible in its int8 logits)",
        "source": "external", "file": "mobilenetv2-12-int8.onnx",
        "sha256": "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f", "bytes": 3655033,
        "dataset": "imagenet", "input": IMAGENET_INPUT, "output": {"name": "output", "classes": 1000},
        "classNamesFile": "labels.tsv",
        "provenance": "ONNX Model Zoo validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx (Apache-2.0; torchvision mobilenet_v2 weights, BSD-3-Clause), unmodified",
    },
    {
        "id": "imagenet-squeezenet1.1",
        "description": "SqueezeNet 1.1 converted to fp32 with raw logits and torchvision-style input",
        "source": "external", "file": "squeezenet1.1-fp32.onnx",
        "sha256": "e0e0713648920389bd403dfa20c05c84dc0fb65a4cd1f395256969a785869e37", "bytes": 4952621,
        "dataset": "imagenet", "input": IMAGENET_INPUT, "output": {"name": "output", "classes": 1000},
        "classNamesFile": "labels.tsv",
        "provenance": "Caffe2/ONNX Model Zoo SqueezeNet v1.1 (DeepScale weights, BSD-2-Clause) from microsoft/Windows-Machine-Learning, weights converted exactly to fp32, softmax removed, dynamic batch, input adapter to torchvision normalization",
    },
]


def main():
    report = json.load(open(f"{HERE}/report.json"))
    path = f"{MODELS}/manifest.json"
    old = {m["id"]: m for m in json.load(open(path))["models"]} if os.path.exists(path) else {}
    models = []
    for r in report.values():
        previous = old.get(r["id"], {})
        smoothed = previous.get("accuracy", {}).get("smoothed", []) if previous.get("sha256") == r["sha256"] else []
        sample = previous.get("accuracy", {}).get("sample", r["sample_accuracy"]) if smoothed else r["sample_accuracy"]
        recipe = dict(r["recipe"], epochs=r["epochs"], seed=r["seed"], trainSeconds=r["train_seconds"],
                      robustAccuracyL2Pgd=r.get("robust_accuracy_l2_pgd"))
        models.append({
            "id": r["id"], "description": DESCRIPTIONS[r["variant"]], "source": "committed",
            "file": r["file"], "sha256": r["sha256"], "bytes": r["bytes"], "dataset": "fashion-mnist",
            "input": {"name": "input", "shape": [1, 28, 28], "range": [0, 1], "normalization": None},
            "output": {"name": "logits", "classes": 10}, "classNames": CLASSES, "flops": r["flops"],
            "provenance": f"trained here by models/train/train.py on Debian's dataset-fashion-mnist with torch {r['torch']}",
            "recipe": recipe,
            "accuracy": {"testSet": r["test_accuracy"], "sample": sample, "smoothed": smoothed},
        })
    order = {"fmnist-cnn": 0, "fmnist-cnn-randtrain": 1, "fmnist-cnn-advtrain": 2}
    models.sort(key=lambda m: order.get(m["id"], 9))
    manifest = {
        "version": 1,
        "models": models + EXTERNAL,
        "samples": [{
            "id": "fmnist-test-1k", "dataset": "fashion-mnist",
            "images": "data/fmnist-t10k-1k-images-idx3-ubyte.gz", "labels": "data/fmnist-t10k-1k-labels-idx1-ubyte.gz",
            "count": 1000,
            "provenance": "the first 1,000 images of the Fashion-MNIST test set (t10k), from Debian's dataset-fashion-mnist (MIT licence, Zalando Research)",
        }],
    }
    with open(path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"wrote {path} with {len(models)} committed and {len(EXTERNAL)} external models")


if __name__ == "__main__":
    main()
