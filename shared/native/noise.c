// Gaussian noise for randomized smoothing, in WebAssembly SIMD128.
//
// Eight independent xoshiro128** generators run in two 4-lane vectors (A and B). One step of both
// gives eight 24-bit uniforms, u1 from A and u2 from B, and Box-Muller turns them into eight normals:
// r = sqrt(-2 ln u1), theta = 2 pi u2, z = (r cos theta, r sin theta). log, sin and cos are float32
// polynomials (relative error ~1e-9 before rounding, so the results are exact to float32 rounding).
// The uniforms are (k + 1/2) / 2^24, never 0, so |z| <= sqrt(2 ln 2^25) = 5.887: the normal tail
// beyond it has probability 3.9e-9, the price of 24-bit uniforms (float32 resolution).
//
// Built by scripts/build-noise-wasm.sh; the .wasm is committed, so building is never part of set-up.
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

static v128_t a0, a1, a2, a3, b0, b1, b2, b3; // the two 4-lane xoshiro128** states

static inline v128_t rotl(v128_t x, int k) { return wasm_v128_or(wasm_i32x4_shl(x, k), wasm_u32x4_shr(x, 32 - k)); }

#define XOSHIRO_NEXT(s0, s1, s2, s3, out)                                           \
  do {                                                                              \
    out = wasm_i32x4_mul(rotl(wasm_i32x4_mul(s1, wasm_i32x4_splat(5)), 7), wasm_i32x4_splat(9)); \
    v128_t t = wasm_i32x4_shl(s1, 9);                                               \
    s2 = wasm_v128_xor(s2, s0);                                                     \
    s3 = wasm_v128_xor(s3, s1);                                                     \
    s1 = wasm_v128_xor(s1, s2);                                                     \
    s0 = wasm_v128_xor(s0, s3);                                                     \
    s2 = wasm_v128_xor(s2, t);                                                      \
    s3 = rotl(s3, 11);                                                              \
  } while (0)

/** Seeds the 8 generators from 32 words (none may be all-zero per generator; JS ensures it). */
EXPORT("seed") void seed(const uint32_t *w) {
  a0 = wasm_v128_load(w + 0);  a1 = wasm_v128_load(w + 4);  a2 = wasm_v128_load(w + 8);  a3 = wasm_v128_load(w + 12);
  b0 = wasm_v128_load(w + 16); b1 = wasm_v128_load(w + 20); b2 = wasm_v128_load(w + 24); b3 = wasm_v128_load(w + 28);
}

/** Writes the state back (for forking and tests). */
EXPORT("save") void save(uint32_t *w) {
  wasm_v128_store(w + 0, a0);  wasm_v128_store(w + 4, a1);  wasm_v128_store(w + 8, a2);  wasm_v128_store(w + 12, a3);
  wasm_v128_store(w + 16, b0); wasm_v128_store(w + 20, b1); wasm_v128_store(w + 24, b2); wasm_v128_store(w + 28, b3);
}

/** (k + 1/2)/2^24 from the top 24 bits: uniform on (0, 1), float32-exact. */
static inline v128_t uniform24(v128_t bits) {
  v128_t k = wasm_u32x4_shr(bits, 8);
  return wasm_f32x4_mul(wasm_f32x4_add(wasm_f32x4_convert_i32x4(k), wasm_f32x4_splat(0.5f)), wasm_f32x4_splat(5.9604644775390625e-8f));
}

/** ln(u) for u in (0, 1]: u = m·2^e with m in [√½, √2), ln m = 2 atanh(s), s = (m−1)/(m+1), |s| ≤ 0.1716. */
static inline v128_t vlog(v128_t u) {
  v128_t bits = u;
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(bits, 23), wasm_i32x4_splat(127));
  v128_t m = wasm_v128_or(wasm_v128_and(bits, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f800000));
  v128_t big = wasm_f32x4_gt(m, wasm_f32x4_splat(1.41421356f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, wasm_f32x4_splat(0.5f)), m, big);
  e = wasm_i32x4_sub(e, big); // big lanes are all-ones = −1, so this adds 1
  v128_t s = wasm_f32x4_div(wasm_f32x4_sub(m, wasm_f32x4_splat(1.0f)), wasm_f32x4_add(m, wasm_f32x4_splat(1.0f)));
  v128_t s2 = wasm_f32x4_mul(s, s);
  // 2(s + s³/3 + s⁵/5 + s⁷/7 + s⁹/9): the next term is < 3e-10 of the sum
  v128_t p = wasm_f32x4_splat(2.0f / 9.0f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(2.0f / 7.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(2.0f / 5.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(2.0f / 3.0f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, s2), wasm_f32x4_splat(2.0f));
  return wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(e), wasm_f32x4_splat(0.69314718056f)), wasm_f32x4_mul(p, s));
}

/** sin and cos of 2πu for u in (0,1): quadrant q = round(4u), φ = (4u − q)·π/2 in [−π/4, π/4], Taylor to degree 9/10. */
static inline void vsincos2pi(v128_t u, v128_t *sinOut, v128_t *cosOut) {
  v128_t t = wasm_f32x4_mul(u, wasm_f32x4_splat(4.0f));
  v128_t qf = wasm_f32x4_nearest(t);
  v128_t x = wasm_f32x4_mul(wasm_f32x4_sub(t, qf), wasm_f32x4_splat(1.57079632679f));
  v128_t q = wasm_i32x4_trunc_sat_f32x4(qf);
  v128_t x2 = wasm_f32x4_mul(x, x);
  v128_t s = wasm_f32x4_splat(1.0f / 362880.0f);
  s = wasm_f32x4_sub(wasm_f32x4_mul(s, x2), wasm_f32x4_splat(1.0f / 5040.0f));
  s = wasm_f32x4_add(wasm_f32x4_mul(s, x2), wasm_f32x4_splat(1.0f / 120.0f));
  s = wasm_f32x4_sub(wasm_f32x4_mul(s, x2), wasm_f32x4_splat(1.0f / 6.0f));
  s = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(s, x2), x), x);
  v128_t c = wasm_f32x4_splat(-1.0f / 3628800.0f);
  c = wasm_f32x4_add(wasm_f32x4_mul(c, x2), wasm_f32x4_splat(1.0f / 40320.0f));
  c = wasm_f32x4_sub(wasm_f32x4_mul(c, x2), wasm_f32x4_splat(1.0f / 720.0f));
  c = wasm_f32x4_add(wasm_f32x4_mul(c, x2), wasm_f32x4_splat(1.0f / 24.0f));
  c = wasm_f32x4_sub(wasm_f32x4_mul(c, x2), wasm_f32x4_splat(0.5f));
  c = wasm_f32x4_add(wasm_f32x4_mul(c, x2), wasm_f32x4_splat(1.0f));
  // θ = φ + qπ/2. Odd q swaps sin and cos; then sin θ is negated for q mod 4 ∈ {2, 3} and
  // cos θ for q mod 4 ∈ {1, 2} (q = 1: sin θ = cos φ, cos θ = −sin φ; q = 3: sin θ = −cos φ, cos θ = sin φ).
  v128_t odd = wasm_i32x4_eq(wasm_v128_and(q, wasm_i32x4_splat(1)), wasm_i32x4_splat(1));
  v128_t q3 = wasm_v128_and(q, wasm_i32x4_splat(3));
  v128_t signBit = wasm_i32x4_splat((int32_t)0x80000000);
  v128_t negSin = wasm_v128_and(wasm_u32x4_ge(q3, wasm_i32x4_splat(2)), signBit);
  v128_t negCos = wasm_v128_and(wasm_v128_or(wasm_i32x4_eq(q3, wasm_i32x4_splat(1)), wasm_i32x4_eq(q3, wasm_i32x4_splat(2))), signBit);
  *sinOut = wasm_v128_xor(wasm_v128_bitselect(c, s, odd), negSin);
  *cosOut = wasm_v128_xor(wasm_v128_bitselect(s, c, odd), negCos);
}

/** Eight standard normals. */
static inline void normals8(v128_t *z1, v128_t *z2) {
  v128_t ua, ub;
  XOSHIRO_NEXT(a0, a1, a2, a3, ua);
  XOSHIRO_NEXT(b0, b1, b2, b3, ub);
  v128_t r = wasm_f32x4_sqrt(wasm_f32x4_mul(wasm_f32x4_splat(-2.0f), vlog(uniform24(ua))));
  v128_t s, c;
  vsincos2pi(uniform24(ub), &s, &c);
  *z1 = wasm_f32x4_mul(r, c);
  *z2 = wasm_f32x4_mul(r, s);
}

/**
 * out[c·d + j] = x[j] + sigma·z for `copies` copies of x (length d): the noisy copies of one input.
 * d need not be a multiple of 8: the last partial group of each copy uses part of eight normals.
 */
EXPORT("fill_noisy") void fill_noisy(float *out, const float *x, uint32_t d, uint32_t copies, float sigma) {
  v128_t sg = wasm_f32x4_splat(sigma);
  uint32_t whole = d & ~7u;
  for (uint32_t c = 0; c < copies; c++) {
    float *o = out + (uint64_t)c * d;
    for (uint32_t j = 0; j < whole; j += 8) {
      v128_t z1, z2;
      normals8(&z1, &z2);
      wasm_v128_store(o + j, wasm_f32x4_add(wasm_v128_load(x + j), wasm_f32x4_mul(sg, z1)));
      wasm_v128_store(o + j + 4, wasm_f32x4_add(wasm_v128_load(x + j + 4), wasm_f32x4_mul(sg, z2)));
    }
    if (whole < d) {
      float z[8] __attribute__((aligned(16)));
      v128_t z1, z2;
      normals8(&z1, &z2);
      wasm_v128_store(z, z1);
      wasm_v128_store(z + 4, z2);
      for (uint32_t j = whole; j < d; j++) o[j] = x[j] + sigma * z[j - whole];
    }
  }
}

/** out[j] = mean + sigma·z for j < len. */
EXPORT("fill_normal") void fill_normal(float *out, uint32_t len, float mean, float sigma) {
  v128_t sg = wasm_f32x4_splat(sigma);
  v128_t mu = wasm_f32x4_splat(mean);
  uint32_t whole = len & ~7u;
  for (uint32_t j = 0; j < whole; j += 8) {
    v128_t z1, z2;
    normals8(&z1, &z2);
    wasm_v128_store(out + j, wasm_f32x4_add(mu, wasm_f32x4_mul(sg, z1)));
    wasm_v128_store(out + j + 4, wasm_f32x4_add(mu, wasm_f32x4_mul(sg, z2)));
  }
  if (whole < len) {
    float z[8] __attribute__((aligned(16)));
    v128_t z1, z2;
    normals8(&z1, &z2);
    wasm_v128_store(z, z1);
    wasm_v128_store(z + 4, z2);
    for (uint32_t j = whole; j < len; j++) out[j] = mean + sigma * z[j - whole];
  }
}
