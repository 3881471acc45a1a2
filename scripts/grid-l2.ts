// What the endpoint's grid costs each attack: results files of `rs-arena attack` on the same images
// with the same budget and seed, one per encoding (float32, png, jpeg:Q), compared image by image.
// Prints per attack the median L2 per encoding and the paired median ratio (grid ÷ float32) with a
// seeded percentile bootstrap 95% interval over images (shared/src/stats), and the sign test;
// writes the same as JSON.
//   npm run grid-l2 -- OUT.json float32.jsonl png.jsonl [jpeg90.jsonl]
import { readFileSync, writeFileSync } from 'node:fs';
import { bootstrap, quantile, signTest } from '@rs-arena/shared/stats';
import { AttackRecord } from '../client/src/record.js';

const [out, ...files] = process.argv.slice(2);
if (!out || files.length < 2) {
  process.stderr.write('usage: grid-l2.ts OUT.json float32.jsonl GRID.jsonl [GRID.jsonl …]\n');
  process.exit(2);
}
const load = (f: string) =>
  readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => AttackRecord.parse(JSON.parse(l)));
const runs = files.map((f) => ({ file: f, records: load(f) }));
const encodingOf = (rs: AttackRecord[]) => rs[0]?.encoding ?? 'float32';
const base = runs[0].records;
const attacks = [...new Set(base.map((r) => r.attack))];
const median = (xs: number[]) => (xs.length ? quantile(xs, 0.5) : NaN);
const rows = [];
for (const attack of attacks) {
  const ref = new Map(base.filter((r) => r.attack === attack && r.l2 !== null).map((r) => [r.image, r.l2!]));
  const row: Record<string, unknown> = { attack, images: ref.size, float32: median([...ref.values()]) };
  for (const run of runs.slice(1)) {
    const enc = encodingOf(run.records);
    const pairs = run.records.filter((r) => r.attack === attack && r.l2 !== null && ref.has(r.image)).map((r) => ({ grid: r.l2!, f32: ref.get(r.image)! }));
    const ratio = bootstrap(pairs, (s) => median(s.map((p) => p.grid / p.f32)));
    const worse = pairs.filter((p) => p.grid > p.f32).length;
    const better = pairs.filter((p) => p.grid < p.f32).length;
    row[enc] = {
      median: median(pairs.map((p) => p.grid)),
      pairs: pairs.length,
      ratio: { value: ratio.value, lo: ratio.lo, hi: ratio.hi },
      worse,
      better,
      signP: signTest(worse, better),
    };
  }
  rows.push(row);
}
const f = (x: number) => x.toFixed(3);
for (const row of rows) {
  const grids = runs.slice(1).map((r) => {
    const g = row[encodingOf(r.records)] as {
      median: number;
      pairs: number;
      ratio: { value: number; lo: number; hi: number };
      worse: number;
      better: number;
      signP: number;
    };
    return `${encodingOf(r.records)} ${f(g.median)} (×${g.ratio.value.toFixed(2)} [${g.ratio.lo.toFixed(2)}, ${g.ratio.hi.toFixed(2)}], worse on ${g.worse}/${g.pairs}, sign p=${g.signP.toPrecision(2)})`;
  });
  process.stdout.write(`${String(row.attack).padEnd(8)} n=${row.images}  float32 ${f(row.float32 as number)}  ${grids.join('  ')}\n`);
}
writeFileSync(out, JSON.stringify({ files, rows }, null, 2) + '\n');
