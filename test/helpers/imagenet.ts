// The real ImageNet classifiers of ../shared/imagenet (never committed): tests that need them skip
// cleanly when the folder is absent.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './root.js';

export const IMAGENET_DIR = resolve(process.env.RS_ARENA_IMAGENET_DIR ?? resolve(ROOT, '../shared/imagenet'));
const HAVE_IMAGENET = existsSync(resolve(IMAGENET_DIR, 'mobilenetv2-12-int8.onnx'));
export const SKIP_IMAGENET = HAVE_IMAGENET ? false : `no ImageNet models at ${IMAGENET_DIR}`;

/**
 * What the int8 MobileNetV2 should score on the 200 images, which depends on the CPU (see
 * ../shared/imagenet/README.md, "int8 kernels depend on the CPU"). expected_predictions.tsv was
 * measured with AVX512-VNNI, whose int8 dot products are exact; without VNNI onnxruntime's AVX2
 * u8s8 kernel sums pairs of products in saturating int16 (vpmaddubsw), which flips borderline
 * answers. The second row was measured here on an AVX2-only AMD EPYC (onnxruntime-node 1.30.0).
 */
export function int8Reference(): { isa: string; agree: number; correct: number; tolerance: number } {
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    /* not Linux: assume the reference machine */
  }
  const vnni = /\b(avx512_vnni|avx_vnni|amx_int8)\b/.test(flags) || flags === '';
  return vnni ? { isa: 'VNNI', agree: 200, correct: 169, tolerance: 2 } : { isa: 'AVX2 (no VNNI)', agree: 158, correct: 150, tolerance: 3 };
}
