// NumPy's .npy format (version 1.0) for float32 tensors: the saved adversarials carry their shape
// and dtype, so `numpy.load` (or `--images file.npy`) reads them without being told [C, H, W].
// Format: "\x93NUMPY", version 1.0, a little-endian uint16 header length, a Python dict literal
// padded with spaces and ending in "\n" so the data starts on a 64-byte boundary, then the data.

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export function npyBytes(values: Float32Array, shape: readonly number[]): Buffer {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== values.length) throw new Error(`npy: shape [${shape.join(', ')}] holds ${size} values, got ${values.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  // Float32Array is the platform's byte order: little-endian on every platform Node supports.
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

/** A float32 .npy file (little-endian, C order) as its shape and values. */
export function readNpy(bytes: Uint8Array): { shape: number[]; values: Float32Array } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error('not a .npy file (no \\x93NUMPY magic)');
  const major = buf[6];
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (descr !== '<f4') throw new Error(`.npy dtype ${descr ?? '?'}: only little-endian float32 ('<f4') is read`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error('.npy in Fortran order is not read');
  const dims = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '';
  const shape = dims
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const offset = start + headerLength;
  const values = new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + buf.length));
  if (values.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`.npy: shape (${dims}) does not match its ${values.length} values`);
  return { shape, values };
}
