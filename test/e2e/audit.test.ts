// `rs-arena audit` end to end against the test server's shipped models: the deterministic battery
// on the undefended CNN (clean answers, the boundary probe, both attackers, the report card), the
// server's count equal to what the audit says it spent, a rerun that resumes without a query, the
// CI gate's exit code, the noise-aware battery where the answers prove random (RS), bad flags, and
// the report card opened in headless Chromium: laid out, its figure drawn whole.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { UsageResponse } from '@rs-arena/shared/api';
import { KEYS, auth, testApp } from '../helpers/app.js';
import { rsArena, rsArenaInProcess } from '../helpers/cli.js';
import type { AuditSummary } from '../../client/src/audit/audit.js';

const CHROMIUM = process.env.CHROMIUM ?? 'chromium';
const hasChromium = !spawnSync(CHROMIUM, ['--version'], { stdio: 'ignore' }).error;
const dir = mkdtempSync(join(tmpdir(), 'rs-arena-audit-'));
let app: FastifyInstance;
let base: string;

before(async () => {
  app = await testApp();
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const used = async (deployment: string) =>
  UsageResponse.parse((await app.inject({ method: 'GET', url: '/v1/usage', headers: auth('client') })).json()).deployments.find(
    (d) => d.deployment === deployment,
  )?.queries ?? 0;

test('audit of the undefended CNN: report card, counts equal, resumed rerun, the CI gate', { timeout: 300_000 }, async (t) => {
  const out = join(dir, 'plain');
  const args = [
    'audit',
    '--endpoint',
    base,
    '--key',
    KEYS.client,
    '--deployment',
    'plain',
    '--epsilon',
    '1,10',
    '--budget',
    '150',
    '--count',
    '3',
    '--concurrency',
    '2',
    '--out',
    out,
  ];
  const run = await rsArena([...args, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const s = JSON.parse(run.stdout) as AuditSummary;
  const file = JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8')) as AuditSummary;
  assert.equal(s.queries, file.queries);
  assert.equal(await used('plain'), s.queries, "the server's count equals the audit's");
  assert.equal(s.randomness.random, false);
  assert.deepEqual(s.randomness.evidence.agreement, [1, 1, 1]);
  assert.deepEqual(s.battery, ['hsja', 'rays']);
  assert.equal(s.clean.images, 3);
  assert.deepEqual(
    s.epsilons.map((e) => e.epsilon),
    [1, 10],
  );
  const wide = s.epsilons[1];
  assert.equal(wide.attacked, s.clean.correct);
  assert.equal(wide.broken, wide.attacked, 'every attacked image is broken within L2 10');
  assert.ok(wide.queriesFor[2].queries! <= 150);
  assert.ok(s.epsilons[0].broken <= wide.broken);
  assert.doesNotMatch(run.stdout + readFileSync(join(out, 'report.html'), 'utf8'), new RegExp(KEYS.client), 'the key is never written');
  for (const v of file.images.filter((v) => v.correct)) assert.ok(v.bestL2Attacker === 'hsja' || v.bestL2Attacker === 'rays');

  // A rerun resumes: not one query more (run in this process; the gate's exit code in a process of its own).
  const again = await rsArenaInProcess(args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /reused from probe\.json/);
  assert.equal(await used('plain'), s.queries);
  // The gate: every image breaks at ε = 10, so a success rate above 50% fails it.
  const gate = await rsArena([...args, '--fail-above', '0.5']);
  assert.equal(gate.code, 3, gate.stderr);
  assert.match(gate.stderr, /gate failed: success exceeds 0\.5 at ε = 10/);

  if (!hasChromium) return t.skip(`no "${CHROMIUM}" on this machine`);
  const check = inChromium(join(out, 'report.html'));
  assert.deepEqual(check.duplicateIds, []);
  assert.equal(check.figures, 1);
  assert.ok(check.figureBox[0] > 300 && check.figureBox[1] > 150, `figure drawn at ${check.figureBox}`);
  assert.deepEqual(check.textsOutside, []);
  assert.equal(check.tableRows, 2 + 3, 'two ε rows and three image rows');
});

test('audit of an RS deployment: the probe finds random answers and the noise-aware battery runs', { timeout: 300_000 }, async () => {
  const out = join(dir, 'rs');
  const before = await used('rs');
  const run = await rsArena([
    'audit',
    '--endpoint',
    base,
    '--key',
    KEYS.client,
    '--deployment',
    'rs',
    '--epsilon',
    '2,8',
    // What is checked is the probe's verdict, the battery it picks and the counts: three images (the
    // probe's three boundary points) and 200 queries per attacker show them; each RS query is 10
    // forward passes on the server, so more only costs.
    '--budget',
    '200',
    '--count',
    '3',
    '--out',
    out,
    '--json',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const s = JSON.parse(run.stdout) as AuditSummary;
  assert.equal(s.randomness.random, true, JSON.stringify(s.randomness));
  assert.ok(s.randomness.evidence.agreement.some((a) => a < 1));
  assert.deepEqual(s.battery, ['geoda-seq', 'rays-seq']);
  assert.equal((await used('rs')) - before, s.queries);
});

test('bad audit input: usage errors name the flag, exit 2, nothing written', { timeout: 60_000 }, async () => {
  const out = join(dir, 'bad');
  for (const [extra, message] of [
    [['--epsilon', '0,1'], /--epsilon expects positive numbers/],
    [['--rate', '1.5'], /--rate must be in \[0, 1\)/],
    [['--fail-above', 'x'], /--fail-above must be in \[0, 1\]/],
    [['--protocol', 'grpc'], /--protocol must be one of/],
  ] as const) {
    // What the command says, run in this process; the unreachable endpoint (down) in a process of its own.
    const run = await rsArenaInProcess(['audit', '--endpoint', base, '--key', KEYS.client, '--deployment', 'plain', '--out', out, ...extra]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, message);
  }
  const down = await rsArena(['audit', '--endpoint', 'http://127.0.0.1:9', '--key', 'k', '--deployment', 'plain', '--out', out]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^rs-arena audit: cannot reach http:\/\/127\.0\.0\.1:9/);
  assert.ok(!existsSync(out), 'nothing written');
});

/** The report laid out in headless Chromium: repeated ids, the figure's drawn size, texts outside it, table rows. */
function inChromium(page: string): { duplicateIds: string[]; figures: number; figureBox: [number, number]; textsOutside: string[]; tableRows: number } {
  const checker = `<script>
const counts = new Map();
for (const el of document.querySelectorAll('[id]')) counts.set(el.id, (counts.get(el.id) ?? 0) + 1);
const svg = document.querySelector('figure svg');
const box = svg.getBoundingClientRect();
const textsOutside = [...svg.querySelectorAll('text')].filter((t) => { const r = t.getBoundingClientRect(); return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5); }).map((t) => t.textContent);
const pre = document.createElement('pre');
pre.id = 'check';
pre.textContent = JSON.stringify({ duplicateIds: [...counts].filter(([, n]) => n > 1).map(([id]) => id), figures: document.querySelectorAll('figure').length, figureBox: [box.width, box.height], textsOutside, tableRows: document.querySelectorAll('tbody tr').length });
document.body.append(pre);
</script>`;
  const copy = page.replace(/\.html$/, '.checked.html');
  writeFileSync(copy, readFileSync(page, 'utf8').replace('</body>', `${checker}</body>`));
  const profile = mkdtempSync(join(tmpdir(), 'rs-arena-chromium-'));
  try {
    const r = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        '--window-size=1200,900',
        '--dump-dom',
        pathToFileURL(copy).href,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const json = /<pre id="check">(.*?)<\/pre>/s.exec(r.stdout ?? '')?.[1];
    assert.ok(json, `chromium printed no check result (status ${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
    return JSON.parse(
      json
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
