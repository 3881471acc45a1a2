// The real ImageNet classifiers of ../shared/imagenet (never committed): tests that need them skip
// cleanly when the folder is absent.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const IMAGENET_DIR = resolve(process.env.RS_ARENA_IMAGENET_DIR ?? resolve(import.meta.dirname, '../../../shared/imagenet'));
export const HAVE_IMAGENET = existsSync(resolve(IMAGENET_DIR, 'mobilenetv2-12-int8.onnx'));
export const SKIP_IMAGENET = HAVE_IMAGENET ? false : `no ImageNet models at ${IMAGENET_DIR}`;
