// Orthonormal 2-D DCT-II and its inverse (DCT-III) per channel of a CHW tensor, separable, with
// the cosine matrix cached per size: SurFree draws its search directions in this low-frequency
// basis. O(n³) per channel by matrix products: 28×28 takes microseconds, 224×224 some milliseconds.
const cache = new Map<number, Float64Array>();

/** C[k·n + i] = α_k cos(π(2i+1)k / 2n), α_0 = √(1/n), α_k = √(2/n): orthonormal, so C⁻¹ = Cᵀ. */
function matrix(n: number): Float64Array {
  let c = cache.get(n);
  if (!c) {
    c = new Float64Array(n * n);
    for (let k = 0; k < n; k++) {
      const a = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
      for (let i = 0; i < n; i++) c[k * n + i] = a * Math.cos((Math.PI * (2 * i + 1) * k) / (2 * n));
    }
    cache.set(n, c);
  }
  return c;
}

/** out = A · X · Bᵀ for one h×w plane, with A (h×h) and B (w×w) given as row-major, optionally transposed. */
function transformPlane(x: Float32Array, out: Float32Array, off: number, h: number, w: number, inverse: boolean): void {
  const ch = matrix(h);
  const cw = matrix(w);
  const tmp = new Float64Array(h * w);
  // rows: tmp[i][k] = Σ_j x[i][j]·M[k][j] (forward) or Σ_j x[i][j]·M[j][k] (inverse)
  for (let i = 0; i < h; i++) {
    for (let k = 0; k < w; k++) {
      let s = 0;
      for (let j = 0; j < w; j++) s += x[off + i * w + j] * (inverse ? cw[j * w + k] : cw[k * w + j]);
      tmp[i * w + k] = s;
    }
  }
  // columns
  for (let k = 0; k < h; k++) {
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let i = 0; i < h; i++) s += (inverse ? ch[i * h + k] : ch[k * h + i]) * tmp[i * w + j];
      out[off + k * w + j] = s;
    }
  }
}

/** 2-D DCT-II of every channel of a [C,H,W] tensor. */
export function dct2(x: Float32Array, shape: readonly [number, number, number]): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(x.length);
  for (let k = 0; k < c; k++) transformPlane(x, out, k * h * w, h, w, false);
  return out;
}

/** Inverse of dct2 (2-D DCT-III). */
export function idct2(x: Float32Array, shape: readonly [number, number, number]): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(x.length);
  for (let k = 0; k < c; k++) transformPlane(x, out, k * h * w, h, w, true);
  return out;
}

/**
 * The lowest `fraction` of the h×w frequencies in zig-zag order (by i + j, then alternating along
 * each anti-diagonal, as JPEG scans them): the indices within one plane.
 */
export function zigzagLowFrequencies(h: number, w: number, fraction: number): Int32Array {
  const cells: [number, number, number][] = [];
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) cells.push([i + j, (i + j) % 2 ? i : j, i * w + j]);
  cells.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const keep = Math.max(1, Math.floor(fraction * h * w));
  return Int32Array.from(cells.slice(0, keep), (c) => c[2]);
}

/**
 * Block DCT as JPEG's: every `block`×`block` tile of every channel transformed on its own (edge
 * tiles are smaller, transformed at their own size, as SciPy does on a slice). SurFree's official
 * default basis draws its directions in this 8×8 basis.
 */
export function blockDct2(x: Float32Array, shape: readonly [number, number, number], block = 8, inverse = false): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(x.length);
  for (let k = 0; k < c; k++) {
    for (let i0 = 0; i0 < h; i0 += block) {
      for (let j0 = 0; j0 < w; j0 += block) {
        const bh = Math.min(block, h - i0);
        const bw = Math.min(block, w - j0);
        const tile = new Float32Array(bh * bw);
        for (let i = 0; i < bh; i++) for (let j = 0; j < bw; j++) tile[i * bw + j] = x[k * h * w + (i0 + i) * w + j0 + j];
        const t = new Float32Array(bh * bw);
        transformPlane(tile, t, 0, bh, bw, inverse);
        for (let i = 0; i < bh; i++) for (let j = 0; j < bw; j++) out[k * h * w + (i0 + i) * w + j0 + j] = t[i * bw + j];
      }
    }
  }
  return out;
}

/** Inverse of blockDct2. */
export function blockIdct2(x: Float32Array, shape: readonly [number, number, number], block = 8): Float32Array {
  return blockDct2(x, shape, block, true);
}

/**
 * The `k`×`k` lowest frequencies of the full 2-D DCT as an orthonormal basis of a subspace
 * (GeoDA's low-frequency search space): maps k·k·C coefficients to an image. Drawing the
 * coefficients i.i.d. N(0, 1) gives a standard Gaussian in that subspace.
 */
export function lowFrequencyImage(coeffs: Float32Array, shape: readonly [number, number, number], k: number): Float32Array {
  const [c, h, w] = shape;
  // The inverse DCT of a k×k corner, C_hᵀ[:, :k] · X · C_w[:k, :], without the zeros: k·w·k + h·w·k
  // products per channel instead of the full transform's h·w·(h + w) (224×224, k = 75: 4.5× fewer;
  // GeoDA draws one such image per probe).
  const ch = matrix(h);
  const cw = matrix(w);
  const out = new Float32Array(c * h * w);
  const tmp = new Float64Array(k * w);
  for (let p = 0; p < c; p++) {
    const x = p * k * k;
    tmp.fill(0);
    for (let u = 0; u < k; u++) {
      for (let v = 0; v < k; v++) {
        const a = coeffs[x + u * k + v];
        if (a === 0) continue;
        for (let y = 0; y < w; y++) tmp[u * w + y] += a * cw[v * w + y];
      }
    }
    const o = p * h * w;
    for (let u = 0; u < k; u++) {
      for (let i = 0; i < h; i++) {
        const a = ch[u * h + i];
        for (let y = 0; y < w; y++) out[o + i * w + y] += a * tmp[u * w + y];
      }
    }
  }
  return out;
}
