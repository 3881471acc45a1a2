#!/usr/bin/env bash
# Installs the external ImageNet classifiers of models/manifest.json into models/imagenet/
# (or $RS_ARENA_IMAGENET_DIR) and checks their sha256. They are never committed.
#
#   models/scripts/fetch-imagenet-models.sh                 # download MobileNetV2 int8 from the ONNX Model Zoo
#   models/scripts/fetch-imagenet-models.sh --from DIR      # copy both models and labels.tsv from a local folder
#
# SqueezeNet 1.1 fp32 (raw logits, dynamic batch, torchvision-style input) is a converted file with
# no public download: copy it with --from. The labels file (index, wnid, name) comes with --from, or
# write it yourself from the standard ImageNet class index.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${RS_ARENA_IMAGENET_DIR:-$here/../imagenet}"
mkdir -p "$dest"

declare -A SHA=(
  [mobilenetv2-12-int8.onnx]=cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f
  [squeezenet1.1-fp32.onnx]=e0e0713648920389bd403dfa20c05c84dc0fb65a4cd1f395256969a785869e37
)
ZOO_URL="https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx"

check() {
  local file="$1" want="$2" got
  got="$(sha256sum "$dest/$file" | cut -d' ' -f1)"
  if [[ "$got" != "$want" ]]; then
    echo "error: $dest/$file has sha256 $got, expected $want" >&2
    exit 1
  fi
  echo "ok  $dest/$file"
}

if [[ "${1:-}" == "--from" ]]; then
  src="${2:?usage: $0 --from DIR}"
  for file in "${!SHA[@]}"; do
    if [[ -f "$src/$file" ]]; then cp "$src/$file" "$dest/$file"; check "$file" "${SHA[$file]}"; else echo "skip $file (not in $src)"; fi
  done
  if [[ -f "$src/labels.tsv" ]]; then cp "$src/labels.tsv" "$dest/labels.tsv"; echo "ok  $dest/labels.tsv"; fi
  exit 0
fi

echo "downloading mobilenetv2-12-int8.onnx from the ONNX Model Zoo…"
curl -fL --retry 3 -o "$dest/mobilenetv2-12-int8.onnx" "$ZOO_URL"
check mobilenetv2-12-int8.onnx "${SHA[mobilenetv2-12-int8.onnx]}"
[[ -f "$dest/labels.tsv" ]] || echo "note: $dest/labels.tsv is missing; class names will be indices until you add it"
