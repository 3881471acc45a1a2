#!/usr/bin/env bash
# Builds shared/native/noise.wasm from shared/native/noise.c (WebAssembly SIMD128, no libc).
# The .wasm is committed: this runs only when noise.c changes, never at install or in CI.
#   apt-get install -y clang-14 lld-14 && scripts/build-noise-wasm.sh
# Built with Debian clang 14.0.6 / wasm-ld 14.
set -euo pipefail
cd "$(dirname "$0")/.."
clang-14 --target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding \
  -Wl,--no-entry -Wl,--initial-memory=1048576 -Wl,--max-memory=4294967296 \
  -Wl,-z,stack-size=65536 -Wl,--strip-all -Wl,--export=__heap_base \
  -o shared/native/noise.wasm shared/native/noise.c
ls -l shared/native/noise.wasm
