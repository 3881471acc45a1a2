// A model folder: `<models dir>/<id>/` holding one `.onnx` file and, optionally, `config.json`.
// Dropping a folder there is enough to serve a model: its input and output names, shape and class
// count are read from the ONNX file by the server (server/src/model-folder.ts); the config says
// only what a file cannot (labels, value range, normalization) and which deployments to serve.
import { z } from 'zod';
import { DeploymentSpec } from './api.js';
import { Normalization } from './manifest.js';

export const MODEL_CONFIG_FILE = 'config.json';

export const ModelFolderConfig = z.strictObject({
  description: z.string().optional(),
  dataset: z.string().default('custom'),
  /** Class names, one per line (or a TSV whose last column is the name), relative to the folder. */
  labels: z.string().optional(),
  /** The value range of a valid input, where RS noise is added (pixel space). */
  range: z.tuple([z.number(), z.number()]).default([0, 1]),
  /** Per-channel normalization applied after the noise; absent: the graph normalizes itself. */
  normalization: Normalization.optional(),
  /** The ONNX file's sha256, recorded when the folder was made (`npm run models:add`): a changed file is refused. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256')
    .optional(),
  /** Deployments of this model served at start (each a deployment spec without `model`). */
  deployments: z.array(DeploymentSpec.omit({ model: true })).default([]),
});
export type ModelFolderConfig = z.infer<typeof ModelFolderConfig>;
