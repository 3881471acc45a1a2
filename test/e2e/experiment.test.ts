// The smoke preset end to end: the CLI starts a real server process on the default config, runs
// every experiment through the admin, evaluator and client APIs, and writes data, figures and the
// report; a rerun resumes from the data instead of querying again.
// The runs after the first go to one server process this file starts (`--endpoint`, as on a shared
// server): the first run proves the CLI starts its own; each start costs some 1.5 CPU-s.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { type ServerProcess, startServer } from '../../client/src/server-process.js';

let server: Promise<ServerProcess> | undefined;
after(async () => (await server)?.stop());

/** The CLI; with `shared`, against this file's server (its keys by environment, as an operator passes them). */
async function run(args: string[], shared = false): Promise<{ code: number; out: string }> {
  let env = process.env;
  if (shared) {
    const s = await (server ??= startServer());
    args = [...args, '--endpoint', s.url];
    env = { ...env, RS_ARENA_ADMIN_KEY: s.keys.admin, RS_ARENA_EVALUATOR_KEY: s.keys.evaluator, RS_ARENA_CLIENT_KEY: s.keys.client };
  }
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, out })));
}

const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').filter(Boolean);

test('rs-arena experiment --preset smoke: data, figures, findings and report; a rerun resumes', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-smoke-'));
  try {
    const first = await run(['experiment', '--preset', 'smoke', '--out', dir]);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /distortion .* 24\/24/);
    const distortion = lines(join(dir, 'distortion.jsonl')).map((l) => JSON.parse(l));
    assert.equal(distortion.length, 24);
    for (const r of distortion) {
      assert.ok(r.queries.total <= 150, `${r.key}: ${r.queries.total} queries`);
      if (r.oracle === 'repeated') assert.equal(r.queries.total % 3, 0, 'ℓ = 3 queries per point');
      if (r.success && r.sigma > 0) {
        assert.ok(r.assessment, `${r.key}: final point assessed`);
        assert.ok(r.assessment.pi0Interval[0] <= r.assessment.pi0 && r.assessment.pi0 <= r.assessment.pi0Interval[1]);
      }
    }
    assert.equal(lines(join(dir, 'certification.jsonl')).length, 4);
    // The query cost of confidence: geoda-seq on 2 images through its sequential test (and on 1 with
    // a longer budget), rays on ℓ = 3 answers per point on 1, the shortcut's rays on 2, every run
    // within its budget.
    const cost = lines(join(dir, 'confidence-cost.jsonl')).map((l) => JSON.parse(l));
    assert.deepEqual(cost.map((r) => `${r.attack}/${r.oracle}/${r.budget}`).sort(), [
      'geoda-seq/sequential/400',
      'geoda-seq/sequential/400',
      'geoda-seq/sequential/600',
      'rays/repeated/400',
      'rays/shortcut/150',
      'rays/shortcut/150',
    ]);
    for (const r of cost) {
      assert.ok(r.queries.total <= r.budget, `${r.key}: ${r.queries.total} queries of ${r.budget}`);
      if (r.oracle === 'sequential') assert.equal(r.attackOptions.Pa, 0.8);
      if (r.oracle === 'repeated') assert.equal(r.queries.total % 3, 0, 'ℓ = 3 queries per point');
      if (r.success) assert.ok(r.assessment && r.assessment.samples === 300, `${r.key}: final point assessed by fresh votes`);
    }
    // The defense menu: RS and the detector in front of RS, HSJA and blinded HSJA, on one image; every
    // query counted on both sides, none over budget; vanilla HSJA refused by the detector; fresh answers on RS.
    const menu = lines(join(dir, 'defense-menu.jsonl')).map((l) => JSON.parse(l));
    assert.deepEqual(
      menu
        .filter((r) => r.kind === 'setting')
        .map((r) => `${r.defense}/${r.correct.length}/${r.benign ? Object.keys(r.benign).length : 0}`)
        .sort(),
      ['detector+rs/10/5', 'rs/10/0'],
    );
    const menuAttacks = menu.filter((r) => r.kind === 'attack');
    assert.equal(menuAttacks.length, 4);
    for (const r of menuAttacks) {
      assert.equal(r.sent, r.server.queries, `${r.defense} × ${r.attacker}: client ${r.sent}, server ${r.server.queries}`);
      assert.ok(
        r.server.queries <= 150 && r.server.forwardPasses >= r.server.queries,
        `${r.defense} × ${r.attacker}: ${r.server.queries} queries, ${r.server.forwardPasses} passes`,
      );
      if (r.success && !r.misclassified) assert.ok(r.fresh && r.fresh.asked === 20, `${r.defense} × ${r.attacker}: fresh answers on the final point`);
    }
    const vanilla = menuAttacks.find((r) => r.defense === 'detector+rs' && r.attacker === 'hsja');
    if (!vanilla.misclassified)
      assert.ok(vanilla.firstDetection !== null && vanilla.refused.queries > 0 && vanilla.server.detections > 0, 'vanilla HSJA is refused by the detector');
    const findings = JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8'));
    // The paper's claims apart from the project's targets, each with its n and a verdict from its interval.
    assert.deepEqual(
      findings.paper.map((f: { id: string }) => f.id),
      [
        'distortion-vs-radius',
        'pa-barely-matters',
        'large-sigma',
        'fewer-samples',
        'rays-least-affected',
        'binary-search-spread',
        'fig1-frontier-beyond',
        'randtrain-same-robustness',
        'randtrain-rays-below-standard',
        'fig4-randtrain-larger-radius',
        'shortcut-at-level',
      ],
    );
    assert.deepEqual(findings.project.map((f: { id: string }) => f.id).slice(0, 2), ['confidence-at-level', 'confidence-cost']);
    for (const f of [...findings.paper, ...findings.project]) {
      assert.ok(['established', 'contradicted', 'not established', 'no data'].includes(f.verdict), `${f.id}: ${f.verdict}`);
      assert.equal(typeof f.n, 'number');
    }
    const pngs = readdirSync(dir).filter((f) => f.endsWith('.png'));
    for (const name of [
      'fig1-direction-0',
      'fig2-slice-0',
      'fig3-binary-search-0',
      'fig4-certified-accuracy',
      'fig5-hsja',
      'queries-rays',
      'cost-fmnist-cnn-randtrain-s0.25',
      'defense-menu',
    ]) {
      assert.ok(pngs.includes(`${name}.png`), `${name}.png written`);
    }
    for (const f of pngs) {
      const meta = await sharp(join(dir, f)).metadata();
      assert.equal(meta.format, 'png');
      assert.ok(meta.width! >= 400, `${f} is ${meta.width} px wide`);
    }
    // The longer run is its own line of the figure (when image 0 is answered correctly, as it is).
    assert.match(readFileSync(join(dir, 'cost-fmnist-cnn-randtrain-s0.25.svg'), 'utf8'), /geoda-seq to 600 n=10/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.match(html, /The paper's findings, checked/);
    assert.equal((html.match(/<svg/g) ?? []).length >= 10, true);

    const before = lines(join(dir, 'distortion.jsonl')).length;
    const again = await run(['experiment', '--preset', 'smoke', '--out', dir], true);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /\(resumed\)/);
    assert.equal(lines(join(dir, 'distortion.jsonl')).length, before, 'nothing re-attacked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the paper-protocol preset, at smoke scale: σ search, measured accuracy on Fig. 5, the same-algorithm controls', { timeout: 600_000 }, async () => {
  const { PRESETS, SIGMA_BY_COST } = await import('../../client/src/experiments/presets.js');
  const full = PRESETS['paper-protocol'] as Record<string, Record<string, unknown>>;
  const std = 'fmnist-cnn';
  const [s3, s12] = [SIGMA_BY_COST[std].cost3, SIGMA_BY_COST[std].cost12];
  // The preset's structure, scaled down: one model, few images, a short search and budget.
  const config = {
    name: 'paper-protocol-smoke',
    description: full.description,
    accuracy: {
      ...full.accuracy,
      models: [std],
      drops: [0.12],
      steps: 3,
      images: 4,
      samples: 20,
      settings: [
        { model: std, sigma: s3 },
        { model: std, sigma: s12 },
      ],
    },
    distortion: {
      ...full.distortion,
      settings: [
        { model: std, sigma: 0 },
        { model: std, sigma: s3 },
        { model: std, sigma: s12 },
      ],
      ns: [10, 100],
      attacks: ['rays'],
      budget: 60,
      images: 2,
      imagesAtN: { '100': 1 },
      assessSamples: 100,
    },
    'confidence-cost': {
      ...full['confidence-cost'],
      settings: [{ model: std, sigma: s12 }],
      ns: [{ n: 10, images: 2 }],
      attackers: [{ attack: 'rays-seq' }],
      budget: 300,
      shortcut: { attacks: ['rays'], budget: 300 },
      assessSamples: 100,
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-protocol-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const first = await run(['experiment', '--config', file, '--out', dir], true);
    assert.equal(first.code, 0, first.out);
    // The search: clean, then 3 bisection midpoints of [0, 0.5], and the attacked σ, on 4 images each.
    const acc = lines(join(dir, 'accuracy.jsonl')).map((l) => JSON.parse(l));
    const sigmas = [...new Set(acc.map((r) => r.sigma))].sort((a, b) => a - b);
    assert.ok(sigmas.includes(0) && sigmas.includes(0.25) && sigmas.includes(s3) && sigmas.includes(s12), `σ measured: ${sigmas}`);
    assert.equal(acc.length, 4 * sigmas.length);
    assert.match(first.out, /accuracy: fmnist-cnn, accuracy cost 0\.12: σ = [\d.]+ \(clean/);
    // Every cell at both levels (P_a ∈ {0.5, 0.8} at every n), n = 100 on one image; provenance on every record.
    const dist = lines(join(dir, 'distortion.jsonl')).map((l) => JSON.parse(l));
    assert.equal(dist.length, 2 + 2 * (2 * 2 + 2 * 1));
    for (const r of dist) {
      assert.match(r.codeVersion, /^code:[0-9a-f]{12}$/);
      assert.equal(r.resolvedOptions.tolerance, 0.001, 'resolved options: the defaults filled in');
    }
    // The control: rays-seq beside rays under the shortcut, same images and budget.
    const cost = lines(join(dir, 'confidence-cost.jsonl')).map((l) => JSON.parse(l));
    assert.deepEqual(cost.map((r) => `${r.attack}/${r.oracle}/${r.budget}`).sort(), [
      'rays-seq/sequential/300',
      'rays-seq/sequential/300',
      'rays/shortcut/300',
      'rays/shortcut/300',
    ]);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.match(html, /the accuracy of g_\{σ,n\} measured on the same images/);
    assert.match(html, /all \d+ attack records were made by the current attack code/);
    assert.ok(readdirSync(dir).includes('accuracy-vs-sigma.png'));
    const findings = JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8'));
    assert.ok(findings.paper.every((f: { source: string }) => f.source === 'paper'));
    // A rerun resumes every record (same code version).
    const again = await run(['experiment', '--config', file, '--out', dir], true);
    assert.equal(again.code, 0, again.out);
    assert.equal(lines(join(dir, 'distortion.jsonl')).length, dist.length, 'nothing re-attacked');
    assert.equal(lines(join(dir, 'accuracy.jsonl')).length, acc.length, 'nothing re-measured');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
