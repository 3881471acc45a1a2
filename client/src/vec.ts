// Small vector operations on Float32Array, allocation-light: the attacks' arithmetic.
export type Vec = Float32Array;

export function sub(a: Vec, b: Vec, out: Vec = new Float32Array(a.length)): Vec {
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** out = a + s·b */
export function axpy(a: Vec, s: number, b: Vec, out: Vec = new Float32Array(a.length)): Vec {
  for (let i = 0; i < a.length; i++) out[i] = a[i] + s * b[i];
  return out;
}

function scale(a: Vec, s: number, out: Vec = new Float32Array(a.length)): Vec {
  for (let i = 0; i < a.length; i++) out[i] = a[i] * s;
  return out;
}

/** (1 − t)·a + t·b: the blend that binary searches walk along. */
export function lerp(a: Vec, b: Vec, t: number, out: Vec = new Float32Array(a.length)): Vec {
  for (let i = 0; i < a.length; i++) out[i] = a[i] + t * (b[i] - a[i]);
  return out;
}

export function dot(a: Vec, b: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm2(a: Vec): number {
  return Math.sqrt(dot(a, a));
}

export function dist2(a: Vec, b: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

export function distInf(a: Vec, b: Vec): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function clip(a: Vec, lo: number, hi: number, out: Vec = a): Vec {
  for (let i = 0; i < a.length; i++) out[i] = Math.min(hi, Math.max(lo, a[i]));
  return out;
}

/** a / ‖a‖₂ (a zero vector stays zero). */
export function normalize(a: Vec, out: Vec = new Float32Array(a.length)): Vec {
  const n = norm2(a);
  return n > 0 ? scale(a, 1 / n, out) : out.fill(0);
}

export function sign(a: Vec, out: Vec = new Float32Array(a.length)): Vec {
  for (let i = 0; i < a.length; i++) out[i] = a[i] > 0 ? 1 : a[i] < 0 ? -1 : 0;
  return out;
}
