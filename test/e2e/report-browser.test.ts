// report.html as a reader sees it: built by `rs-arena report` from committed paper-fmnist data and
// opened in headless Chromium (Debian's `chromium`; .ci/run installs it). In the laid-out page no
// element id repeats, every clip path a figure uses is its own, and every figure is drawn whole: at
// its own aspect ratio, inside its column, with every text (titles, legends, labels) inside it.
// A control page with the old engine's bug (each figure declaring clipPath id="plot") must fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const CHROMIUM = process.env.CHROMIUM ?? 'chromium';
const hasChromium = !spawnSync(CHROMIUM, ['--version'], { stdio: 'ignore' }).error;

interface Check {
  duplicateIds: string[];
  figures: {
    id: string;
    viewBox: [number, number];
    box: [number, number];
    column: number;
    /** Texts whose box leaves the figure's (rounded to 0.5 px). */
    textsOutside: string[];
    /** clip-path references that resolve to nothing or to an element of another figure. */
    foreignClips: string[];
  }[];
}

/** Runs in the page (plain JS: this project has no DOM types): measures the laid-out report, appends a Check as JSON. */
const CHECK_PAGE = `
const counts = new Map();
for (const el of document.querySelectorAll('[id]')) counts.set(el.id, (counts.get(el.id) ?? 0) + 1);
const result = { duplicateIds: [...counts].filter(([, n]) => n > 1).map(([id]) => id), figures: [] };
document.querySelectorAll('figure').forEach((fig, k) => {
  const svg = fig.querySelector('svg');
  const box = svg.getBoundingClientRect();
  const vb = svg.viewBox.baseVal;
  const textsOutside = [...svg.querySelectorAll('text')]
    .filter((t) => {
      const r = t.getBoundingClientRect();
      return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5);
    })
    .map((t) => t.textContent);
  const foreignClips = [...svg.querySelectorAll('[clip-path]')]
    .map((el) => (/url\\(#([^)]+)\\)/.exec(el.getAttribute('clip-path')) || [])[1] || '')
    .filter((id) => {
      const target = document.getElementById(id);
      return !target || !svg.contains(target);
    });
  result.figures.push({ id: fig.id || 'figure ' + k, viewBox: [vb.width, vb.height], box: [box.width, box.height], column: fig.getBoundingClientRect().width, textsOutside, foreignClips });
});
const pre = document.createElement('pre');
pre.id = 'rs-arena-check';
pre.textContent = JSON.stringify(result);
document.body.append(pre);
`;

/** Opens `html` (written into `dir`) in headless Chromium with the checker appended and returns its findings. */
function inChromium(dir: string, name: string, html: string): Check {
  const page = join(dir, name);
  const script = `<script>${CHECK_PAGE}</script>`;
  writeFileSync(page, html.replace('</body>', `${script}</body>`));
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
        pathToFileURL(page).href,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 },
    );
    const json = /<pre id="rs-arena-check">(.*?)<\/pre>/s.exec(r.stdout ?? '')?.[1];
    assert.ok(json, `chromium printed no check result (status ${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
    return JSON.parse(
      json
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    ) as Check;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** What is wrong with a checked page, one line per problem (empty: nothing). */
function problems(c: Check): string[] {
  const out = c.duplicateIds.map((id) => `id "${id}" repeats`);
  for (const f of c.figures) {
    const [vw, vh] = f.viewBox;
    const [w, h] = f.box;
    if (!(vw > 0 && vh > 0)) out.push(`${f.id}: no viewBox`);
    else if (Math.abs(w / h - vw / vh) > 0.01 * (vw / vh)) out.push(`${f.id}: drawn ${w}×${h}, not at the viewBox's ${vw}×${vh} aspect`);
    if (w > f.column + 0.5) out.push(`${f.id}: ${w} px wide in a ${f.column} px column`);
    if (w < Math.min(vw, f.column) - 0.5) out.push(`${f.id}: drawn ${w} px wide, below its ${vw} px (column ${f.column})`);
    for (const t of f.textsOutside) out.push(`${f.id}: text "${t}" outside the figure`);
    for (const id of f.foreignClips) out.push(`${f.id}: clip-path #${id} is not the figure's own`);
  }
  return out;
}

function rsArena(args: string[]): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, out })));
}

test('report.html in headless Chromium: unique ids, own clip paths, every figure whole', { timeout: 300_000 }, async (t) => {
  if (!hasChromium) return t.skip(`no "${CHROMIUM}" on this machine (CI installs Debian's chromium in .ci/run)`);
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-report-'));
  try {
    // The checker finds the old engine's bug: two figures both declaring clipPath id="plot".
    const old = (w: number) =>
      `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="100" viewBox="0 0 ${w} 100"><defs><clipPath id="plot"><rect width="${w - 100}" height="80"/></clipPath></defs><path d="M0,50H${w}" stroke="red" clip-path="url(#plot)"/><text x="${w - 10}" y="50">legend</text></svg></figure>`;
    const control = problems(inChromium(dir, 'control.html', `<!doctype html><html><body>${old(400)}${old(600)}</body></html>`));
    assert.ok(control.includes('id "plot" repeats'), control.join('\n'));
    assert.ok(
      control.some((p) => p.includes('clip-path #plot is not the figure')),
      control.join('\n'),
    );
    assert.ok(
      control.some((p) => p.includes('text "legend" outside')),
      control.join('\n'),
    );

    // A results folder with the committed paper-fmnist data (no figures), reported from scratch.
    const src = 'results/paper-fmnist';
    for (const f of readdirSync(src).filter((f) => f.endsWith('.jsonl') || f === 'preset.json')) copyFileSync(join(src, f), join(dir, f));
    const r = await rsArena(['report', dir]);
    assert.equal(r.code, 0, r.out);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const check = inChromium(dir, 'report-check.html', html);
    assert.ok(check.figures.length >= 10, `${check.figures.length} figures laid out`);
    assert.deepEqual(problems(check), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
