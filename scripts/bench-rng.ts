// Benchmark of the noise sources, side by side in one run: the JavaScript ziggurat (rng.ts) and the
// WebAssembly SIMD kernel (noise.ts, what the server uses): normals per second, and the cost of one
// ImageNet-size RS query's noise (n = 100 copies of 3×224×224 = 15 million normals).
// Prints a table and writes out/bench-rng.json. Usage: npm run bench:rng
import { mkdirSync, writeFileSync } from 'node:fs';
import { Rng } from '@rs-arena/shared/rng';
import { NoiseSource } from '@rs-arena/shared/noise';

function rate(label: string, count: number, reps: number, fn: () => void) {
  fn(); // warm-up (JIT)
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const perSecond = (count * reps) / seconds;
  console.log(`${label.padEnd(44)} ${(perSecond / 1e6).toFixed(1).padStart(8)} M/s`);
  return { label, perSecond, seconds, count: count * reps };
}

const rng = Rng.seeded(1);
const buf = new Float32Array(1 << 22);
const image = new Float32Array(3 * 224 * 224).fill(0.5);
const copies = new Float32Array(image.length * 100);
const wasm = NoiseSource.seeded(1);
const wasmBuf = wasm.scratch(buf.length); // in place, as the server uses it
const wasmCopies = NoiseSource.seeded(2);
// The server's scratch is capped (MAX_SCRATCH_VALUES, 8.4 M values): n = 100 ImageNet copies (15 M) are
// two fills of 50, as the scheduler splits them.
const wasmCopiesBuf = wasmCopies.scratch(copies.length / 2);
const results = [
  rate('uniform float32 (fillUniform)', buf.length, 10, () => rng.fillUniform(buf)),
  rate('standard normal float32 (fillNormal)', buf.length, 10, () => rng.fillNormal(buf)),
  rate('Box-Muller (Math.log/sqrt/cos), for comparison', buf.length, 10, () => {
    for (let j = 0; j < buf.length; j += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - rng.uniform()));
      const t = 2 * Math.PI * rng.uniform();
      buf[j] = r * Math.cos(t);
      buf[j + 1] = r * Math.sin(t);
    }
  }),
  rate('ImageNet RS query noise, x + 0.25·N, n = 100', copies.length, 3, () => rng.fillNormal(copies, image, 0.25)),
  rate('WASM SIMD: standard normal float32', buf.length, 10, () => wasm.fillNormal(wasmBuf)),
  rate('WASM SIMD: ImageNet RS query noise, n = 100', copies.length, 3, () => {
    wasmCopies.fillNormal(wasmCopiesBuf, image, 0.25);
    wasmCopies.fillNormal(wasmCopiesBuf, image, 0.25);
  }),
];
const zig = results[1].perSecond;
const bm = results[2].perSecond;
const perQueryMs = (copies.length / results[3].perSecond) * 1e3;
const wasmPerQueryMs = (copies.length / results[5].perSecond) * 1e3;
console.log(`JS ziggurat / JS Box-Muller speed ratio: ${(zig / bm).toFixed(2)}`);
console.log(`WASM / JS ziggurat speed ratio (ImageNet copies): ${(results[5].perSecond / results[3].perSecond).toFixed(2)}`);
console.log(`noise for one ImageNet query at n = 100: JS ${perQueryMs.toFixed(1)} ms, WASM ${wasmPerQueryMs.toFixed(1)} ms`);
mkdirSync('out', { recursive: true });
writeFileSync(
  'out/bench-rng.json',
  JSON.stringify(
    {
      node: process.version,
      results,
      ratioZigguratToBoxMuller: zig / bm,
      ratioWasmToJs: results[5].perSecond / results[3].perSecond,
      imagenetQueryNoiseMs: { js: perQueryMs, wasm: wasmPerQueryMs },
    },
    null,
    2,
  ),
);
console.log('wrote out/bench-rng.json');
