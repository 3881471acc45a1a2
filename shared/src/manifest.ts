// The schema of models/manifest.json: what each shipped (or user-provided) classifier is, where its
// weights live, how its input is laid out, and what accuracy it was measured to have.
import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

/** Per-channel normalization applied after RS noise, for models that do not fold it into the graph. */
export const Normalization = z.strictObject({
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});

const ModelInput = z.strictObject({
  /** ONNX input name. */
  name: z.string().min(1),
  /** Shape of one input, without the batch dimension: [C, H, W]. */
  shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  /** The value range of a valid input (pixel space, where RS noise is added). */
  range: z.tuple([z.number(), z.number()]),
  /** Applied inside the server after the noise; null when the graph normalizes itself. */
  normalization: Normalization.nullable(),
});

const SmoothedAccuracy = z.strictObject({
  sigma: z.number().nonnegative(),
  n: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  /** Fraction of the sample whose majority vote equals the true label. */
  accuracy: z.number().min(0).max(1),
});

export const ModelEntry = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, dot, dash, underscore'),
    description: z.string(),
    /**
     * committed: the file is in models/ and must be present.
     * external: the user provides it (export/download script); it is looked up under the external
     * model directory and reported as missing when absent.
     */
    source: z.enum(['committed', 'external']),
    file: z.string().min(1),
    sha256,
    bytes: z.number().int().positive().optional(),
    dataset: z.string(),
    input: ModelInput,
    output: z.strictObject({ name: z.string().min(1), classes: z.number().int().positive() }),
    /** Class names inline, or a TSV file (index, id, name) relative to the model's directory. */
    classNames: z.array(z.string()).optional(),
    classNamesFile: z.string().optional(),
    flops: z.number().positive().optional(),
    provenance: z.string(),
    recipe: z.record(z.string(), z.unknown()).optional(),
    accuracy: z
      .strictObject({
        /** Clean accuracy on the full test set, as measured at training time. */
        testSet: z.number().min(0).max(1).optional(),
        /** Clean accuracy on the shipped sample (reproduced by the tests). */
        sample: z.number().min(0).max(1).optional(),
        /** Accuracy of the smoothed classifier on the shipped sample. */
        smoothed: z.array(SmoothedAccuracy).default([]),
      })
      .optional(),
  })
  .refine((m) => m.classNames !== undefined || m.classNamesFile !== undefined, {
    message: 'a model needs classNames or classNamesFile',
  })
  .refine((m) => m.classNames === undefined || m.classNames.length === m.output.classes, {
    message: 'classNames must have one name per output class',
  });

/** A shipped set of test images in IDX format (gzip allowed), relative to models/. */
export const SampleSet = z.strictObject({
  id: z.string().min(1),
  dataset: z.string(),
  images: z.string(),
  labels: z.string(),
  count: z.number().int().positive(),
  provenance: z.string(),
});

export const Manifest = z.strictObject({
  version: z.literal(1),
  models: z.array(ModelEntry).min(1),
  samples: z.array(SampleSet).default([]),
});

export type Normalization = z.infer<typeof Normalization>;
export type ModelEntry = z.infer<typeof ModelEntry>;
export type SampleSet = z.infer<typeof SampleSet>;
export type Manifest = z.infer<typeof Manifest>;
