// Request bodies → a validated batch of float32 inputs. Three encodings are accepted:
// raw little-endian float32 (application/octet-stream), base64 float32 in JSON, and a single
// PNG/JPEG image (decoded and resized by sharp; 8-bit, so unfit for precise attacks). An image must
// be the format its content type declares, and its header's dimensions are bounded by the model's
// input before a pixel is decoded.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InputsBody } from '@rs-arena/shared/api';
import { ImageDecodeError, ImageTypeError, decodeBounds, imageToTensor } from '@rs-arena/shared/image';
import { TensorFormatError, bytesToFloat32, decodeTensorJson } from '@rs-arena/shared/tensor';
import { HttpError, badRequest, parseOr400 } from './errors.js';
import type { Deployment } from './deployments.js';

const INPUT_CONTENT_TYPES = ['application/octet-stream', 'application/json', 'image/png', 'image/jpeg'];
/** sharp's name for the format each image content type declares. */
const IMAGE_FORMATS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg' };

/** Registers the binary and image parsers (JSON is Fastify's own). */
export function registerBodyParsers(app: FastifyInstance): void {
  app.addContentTypeParser(['application/octet-stream', 'image/png', 'image/jpeg'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

export interface Batch {
  values: Float32Array;
  count: number;
}

/** Decodes the request's inputs for a deployment and checks count, shape, finiteness and range. */
export async function decodeInputs(request: FastifyRequest, deployment: Deployment): Promise<Batch> {
  const values = await decodeValues(request, deployment);
  const { inputSize } = deployment.model;
  if (values.length === 0) throw badRequest('empty batch: the body holds no input', 'empty_batch');
  if (values.length % inputSize !== 0) {
    throw badRequest(
      `body holds ${values.length} float32 values, not a whole number of inputs of ${inputSize} values ` +
        `(shape [${deployment.model.inputShape}], ${inputSize * 4} bytes each)`,
      'bad_length',
    );
  }
  const count = values.length / inputSize;
  const { maxBatch } = deployment;
  if (count > maxBatch) {
    throw new HttpError(413, 'batch_too_large', `batch of ${count} inputs exceeds this deployment's maximum of ${maxBatch}`);
  }
  checkValues(values, inputSize, deployment.model.model.entry.input.range);
  return { values, count };
}

async function decodeValues(request: FastifyRequest, deployment: Deployment): Promise<Float32Array> {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  // No body at all (no Content-Length) leaves request.body undefined: the same as an empty one.
  const bytes = () => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));
  try {
    if (type === 'application/octet-stream') return bytesToFloat32(bytes());
    if (type === 'application/json') {
      const { inputs } = parseOr400(InputsBody, request.body, 'body');
      const { values, shape } = decodeTensorJson(inputs);
      const expected = deployment.model.inputShape;
      const inner = shape.slice(1);
      if (inner.length !== expected.length || inner.some((d, i) => d !== expected[i])) {
        throw badRequest(`inputs.shape [${shape}] must be [batch, ${expected.join(', ')}]`, 'bad_shape');
      }
      return values;
    }
    const format = Object.hasOwn(IMAGE_FORMATS, type) ? IMAGE_FORMATS[type] : undefined;
    if (format) {
      const shape = deployment.model.inputShape;
      const resize = deployment.model.model.entry.dataset === 'imagenet' ? 'crop' : 'fill';
      return await imageToTensor(bytes(), { shape, resize }, { format, ...decodeBounds(shape) });
    }
  } catch (err) {
    if (err instanceof TensorFormatError) throw badRequest(err.message, 'bad_tensor');
    if (err instanceof ImageTypeError) throw new HttpError(415, 'image_type_mismatch', err.message);
    if (err instanceof ImageDecodeError) throw badRequest(err.message, 'bad_image');
    throw err;
  }
  throw new HttpError(415, 'unsupported_media_type', `content type "${type}" is not accepted; use one of ${INPUT_CONTENT_TYPES.join(', ')}`);
}

/** Rejects NaN/Inf and values outside the declared range, naming the input and the position. */
function checkValues(values: Float32Array, inputSize: number, [lo, hi]: readonly [number, number]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= lo && v <= hi) continue;
    const where = `input ${Math.floor(i / inputSize)}, element ${i % inputSize}`;
    if (!Number.isFinite(v)) throw badRequest(`${where} is ${v}: inputs must be finite`, 'non_finite');
    throw badRequest(`${where} is ${v}, outside the declared range [${lo}, ${hi}]`, 'out_of_range');
  }
}
