// The defense menu's data and analysis (records/defense-menu.ts, report/sections/defense-menu.ts) and
// its counting layers (experiments/defense-menu.ts): configs fail closed naming the field, a chain's
// randomness and detector are read from its stages, a final point counts at ε only at level P_a on
// fresh answers, refusals are counted on the wire and end a plain attack with the queries booked,
// and the findings call a real difference established and noise not established.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckedDefenseMenuConfig, Wire, WireOracle, taskKey } from '../../../client/src/experiments/defense-menu.js';
import {
  type DefenseMenuConfig,
  type MenuAttackRecord,
  type MenuSettingRecord,
  answersAreRandom,
  defenseMenu,
  hasDetector,
  menuAttackTasks,
  withoutScreens,
} from '../../../client/src/experiments/records/defense-menu.js';
import {
  ANY_ATTACKER,
  bestAttacker,
  brokenAt,
  defenseMenuFindings,
  menuCells,
  menuRows,
  pairedDifference,
  successAt,
} from '../../../client/src/report/sections/defense-menu.js';
import { BudgetRefused, CountingOracle, type Oracle, QueryRefused } from '../../../client/src/oracle.js';
import { PRESETS } from '../../../client/src/experiments/presets.js';

const base = (PRESETS['defense-menu'] as Record<string, unknown>)['defense-menu'] as DefenseMenuConfig;

test('the config fails closed, naming the field', () => {
  const bad = (patch: Record<string, unknown>) => CheckedDefenseMenuConfig.safeParse({ ...base, ...patch });
  const path = (r: ReturnType<typeof bad>) => (r.success ? null : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  assert.ok(CheckedDefenseMenuConfig.safeParse(base).success, path(bad({})) ?? '');
  assert.match(path(bad({ epsilon: 5 }))!, /^epsilon: must be one of epsilons/);
  assert.match(path(bad({ accuracyImages: 3 }))!, /^accuracyImages: must be at least images/);
  assert.match(path(bad({ attackers: [{ name: 'a', attack: 'fgsm' }] }))!, /^attackers\.0\.attack: unknown attack "fgsm"/);
  assert.match(path(bad({ attackers: [{ name: 'a', attack: 'hsja', options: { constraint: 'l7' } }] }))!, /^attackers\.0\.options\.constraint: /);
  assert.match(
    path(bad({ attackers: [{ name: 'a', attack: 'geoda-seq', options: { Pa: 0.5 } }] }))!,
    /attackers\.0\.options\.Pa: the level is the experiment's Pa/,
  );
  assert.match(path(bad({ attackers: [{ name: 'a', attack: 'hsja', adaptive: { blind: { noise: 2 } } }] }))!, /^attackers\.0\.adaptive\.blind\.noise: /);
  assert.match(
    path(
      bad({
        attackers: [
          { name: 'a', attack: 'hsja' },
          { name: 'a', attack: 'rays' },
        ],
      }),
    )!,
    /two attackers are named "a"/,
  );
  assert.match(path(bad({ defenses: [{ name: 'Bad Name', label: 'x', defense: ['none'] }] }))!, /^defenses\.0\.name: /);
});

test('a chain says whether its answers are random, whether a detector screens it, and what answers behind the detector', () => {
  assert.equal(answersAreRandom(['none']), false);
  assert.equal(answersAreRandom([{ name: 'gaussian', sigma: 0.1, n: 10 }]), true);
  assert.equal(answersAreRandom([{ name: 'gated', tau: 0.9, sigma: 0.25, n: 10 }]), true);
  assert.equal(answersAreRandom([{ name: 'deterministic', sigma: 0.1, n: 10 }]), false, 'input-deterministic RS answers one input alike');
  assert.equal(hasDetector([{ name: 'blacklight' }, 'none']), true);
  assert.equal(hasDetector(['gaussian']), false);
  assert.deepEqual(withoutScreens([{ name: 'blacklight' }, { name: 'gaussian', sigma: 0.1, n: 10 }]), [{ name: 'gaussian', sigma: 0.1, n: 10 }]);
  assert.deepEqual(withoutScreens([{ name: 'blacklight' }]), ['none']);
});

test('tasks: every setting × attacker on the same images; a noise-aware attack gets the level in its options and key', () => {
  const c = { ...base, images: 2 };
  const tasks = menuAttackTasks(c);
  assert.equal(tasks.length, 2 * c.defenses.length * c.attackers.length);
  assert.deepEqual([...new Set(tasks.map((t) => t.seed))], [17, 1017], 'one seed per image, the same in every cell');
  const keys = tasks.map(taskKey);
  assert.equal(new Set(keys).size, keys.length, 'every task its own key');
  const aware = tasks.find((t) => t.attacker.attack === 'geoda-seq')!;
  assert.match(taskKey(aware), /"Pa":0\.8/);
});

/** An attack record with the fields the analysis reads. */
function run(p: Partial<MenuAttackRecord> & Pick<MenuAttackRecord, 'defense' | 'attacker' | 'image'>): MenuAttackRecord {
  return {
    key: '',
    attack: 'hsja',
    attackOptions: {},
    budget: 100,
    seed: 0,
    misclassified: false,
    success: true,
    l2: 1,
    linf: 0.5,
    queries: { total: 100, bad: 0, perPhase: {} },
    history: [],
    stopReason: 'budget',
    wallMs: 1,
    kind: 'attack',
    model: 'm',
    defenseSpec: ['none'],
    adaptive: null,
    label: 0,
    Pa: 0.8,
    confirm: 10,
    random: false,
    sent: 100,
    refused: { queries: 0, requests: 0 },
    firstDetection: null,
    stoppedByDetection: false,
    server: { queries: 100, forwardPasses: 100, rejected: 0, detections: null, keys: 1 },
    fresh: { asked: 1, adversarial: 1 },
    menuVersion: 'v',
    ...p,
  };
}

test('a final point counts at ε when found within ε and, where answers are random, wrong on at least P_a of its fresh answers', () => {
  const r = (p: Partial<MenuAttackRecord>) => run({ defense: 'd', attacker: 'a', image: 0, ...p });
  assert.equal(brokenAt(r({ l2: 1.5 }), 2), true);
  assert.equal(brokenAt(r({ l2: 2.5 }), 2), false);
  assert.equal(brokenAt(r({ l2: 1.5, fresh: { asked: 1, adversarial: 0 } }), 2), false, 'accepted on a blinded query, not adversarial itself');
  assert.equal(brokenAt(r({ misclassified: true }), 2), false);
  assert.equal(brokenAt(r({ success: false, l2: null, fresh: null }), 2), false);
  assert.equal(brokenAt(r({ random: true, fresh: { asked: 10, adversarial: 8 } }), 2), true, '8 of 10 ≥ 0.8');
  assert.equal(brokenAt(r({ random: true, fresh: { asked: 10, adversarial: 7 } }), 2), false);
  assert.equal(brokenAt(r({ random: true, fresh: null }), 2), false, 'random answers and no fresh answers: not shown adversarial');
});

test("refusals are counted on the wire and passed on: the attack's count keeps the refused queries booked, and a plain attack ends there", async () => {
  let calls = 0;
  const inner: Oracle = {
    inputShape: [1, 1, 2],
    range: [0, 1],
    async predict(_b, count) {
      calls++;
      if (calls >= 3) throw new QueryRefused('refused', 'query_refused', count, count);
      return new Int32Array(count);
    },
  };
  const wire = new Wire();
  const counting = new CountingOracle(new WireOracle(inner, wire), 0, 100);
  await counting.labels(new Float32Array(2 * 4), 4);
  await counting.labels(new Float32Array(2), 1);
  await assert.rejects(counting.labels(new Float32Array(2 * 3), 3), (e: Error) => e instanceof QueryRefused);
  assert.deepEqual(
    { sent: wire.sent, refused: wire.refusedQueries, requests: wire.refusedRequests, first: wire.firstDetection },
    { sent: 8, refused: 3, requests: 1, first: 8 },
  );
  assert.equal(counting.queries, 8, 'the refused batch stays booked: the server charged it');
  // A budget refusal (429) charged nothing: not on the wire's count.
  const full: Oracle = {
    inputShape: [1, 1, 2],
    range: [0, 1],
    predict: async () => {
      throw new BudgetRefused('no budget', 0);
    },
  };
  const w2 = new Wire();
  await assert.rejects(new WireOracle(full, w2).predict(new Float32Array(2), 1), (e: Error) => e instanceof BudgetRefused);
  assert.equal(w2.sent, 0);
});

test('statistics: success with its interval, the best attacker, a paired difference with its bootstrap interval', () => {
  const runs = Array.from({ length: 10 }, (_, i) => run({ defense: 'd', attacker: 'a', image: i, l2: i < 7 ? 1 : 3 }));
  const s = successAt(runs, 2);
  assert.equal(s.k, 7);
  assert.equal(s.n, 10);
  assert.ok(Math.abs(s.lo - 0.3475) < 1e-3 && Math.abs(s.hi - 0.9333) < 1e-3, `${s.lo} ${s.hi}`); // scipy binomtest(7, 10).proportion_ci(): (0.3475, 0.9333)
  const none = pairedDifference(new Map([[0, 1]]), new Map([[1, 1]]));
  assert.equal(none, null, 'no image in common: nothing to compare');
  const d = pairedDifference(new Map(Array.from({ length: 20 }, (_, i) => [i, 1])), new Map(Array.from({ length: 20 }, (_, i) => [i, 0])));
  assert.deepEqual([d!.value, d!.lo, d!.hi, d!.images], [-1, -1, -1, 20]);
  const cells = menuCells([...runs, ...runs.map((r) => ({ ...r, attacker: 'b', l2: 1 }))], {
    defenses: [{ name: 'd', label: '', defense: ['none'] }],
    attackers: [
      { name: 'a', attack: 'hsja' },
      { name: 'b', attack: 'hsja' },
    ],
  });
  assert.equal(bestAttacker(cells, 'd', 2)!.attacker, 'b');
});

test('the findings: a real difference is established, noise is not, the counts are checked exactly', () => {
  const c: DefenseMenuConfig = {
    ...base,
    images: 30,
    budget: 100,
    epsilons: [2],
    epsilon: 2,
    accuracyImages: 30,
    defenses: [
      { name: 'undefended', label: '', defense: ['none'] },
      { name: 'strong', label: '', defense: [{ name: 'gaussian', sigma: 0.1, n: 10 }] },
      { name: 'noise', label: '', defense: [{ name: 'deterministic', sigma: 0.1, n: 10 }] },
      { name: 'detector', label: '', defense: [{ name: 'blacklight' }, 'none'] },
      { name: 'guarded', label: '', defense: [{ name: 'blacklight' }, { name: 'gaussian', sigma: 0.1, n: 10 }] },
    ],
    attackers: [
      { name: 'hsja', attack: 'hsja' },
      { name: 'blinded', attack: 'hsja', adaptive: { blind: { noise: 0.02 } } },
    ],
  };
  const records: (MenuAttackRecord | MenuSettingRecord)[] = [];
  for (const d of c.defenses) {
    records.push({
      key: '',
      kind: 'setting',
      model: c.model,
      defense: d.name,
      defenseSpec: d.defense,
      random: false,
      correct: Array.from({ length: 30 }, (_, i) => d.name !== 'strong' || i % 10 !== 0),
      refused: 0,
      benign: null,
      forwardPasses: 0,
      queries: 30,
      menuVersion: 'v',
    });
    for (const a of c.attackers) {
      for (let i = 0; i < 30; i++) {
        // Undefended: every image broken. Strong: 3 of 30 broken (a real difference). Noise: 28 of 30 (none shown).
        // The detector: vanilla HSJA detected at query 20 on every image; the blinded attacker breaks 20 of 30.
        const broken =
          d.name === 'undefended' ||
          ((d.name === 'strong' || d.name === 'guarded') && i < 3) ||
          (d.name === 'noise' && i >= 2) ||
          (d.name === 'detector' && a.name === 'blinded' && i < 20);
        const detected = d.name === 'detector' && a.name === 'hsja';
        // Image 29 is answered wrongly on the detector: vanilla HSJA's run asks one query, nothing to attack or detect.
        const wrong = detected && i === 29;
        records.push(
          run({
            defense: d.name,
            defenseSpec: d.defense,
            model: c.model,
            attacker: a.name,
            image: i,
            l2: broken ? 1 : 3,
            firstDetection: detected && !wrong ? 20 : null,
            adaptive: a.adaptive ?? null,
            ...(wrong ? { misclassified: true, success: false, l2: null, fresh: null } : {}),
          }),
        );
      }
    }
  }
  const f = defenseMenuFindings(records, c);
  const by = (id: string) => f.find((x) => x.id === id)!;
  // 29 of the 29 attacked images detected: its interval [0.881, 1] does not lie above 0.9 (40 of 40 would: [0.912, 1]).
  assert.equal(by('menu-detector-stops-hsja').verdict, 'not established', by('menu-detector-stops-hsja').evidence);
  assert.match(
    by('menu-detector-stops-hsja').evidence,
    /^29\/29 = 100% \[88%, 100%\] of the attacked images \(1 of 30 answered wrongly, not attacked\); first detection at query 20–20/,
  );
  assert.equal(by('menu-adaptive-beats-detector').verdict, 'not established', '20/30 = 67% [47%, 83%] does not lie above 50%');
  assert.equal(by('menu-strong').verdict, 'established');
  assert.equal(by('menu-noise').verdict, 'not established');
  assert.equal(by('menu-noise').n, 30);
  assert.equal(by('menu-counts').verdict, 'established');
  // The detector in front of "strong" changes nothing here: not established, on the 30 images.
  assert.equal(by('menu-chain-guarded').verdict, 'not established');
  assert.match(by('menu-chain-guarded').evidence, /difference 0\.0 points \[0\.0, 0\.0\], paired on 30 images/);
  assert.equal(
    f.some((x) => x.id === 'menu-chain-detector'),
    false,
    'the detector alone is compared with the undefended model above, not twice',
  );
  // "guarded" and "strong" tie at 3/30; the tie goes to the smaller clean-accuracy cost (guarded: none), and it is not established.
  assert.match(by('menu-best-defense').claim, /"guarded" leaves its best attacker the lowest success at L2 ≤ 2, lower than the next setting \("strong"\)/);
  assert.equal(by('menu-best-defense').verdict, 'not established');
  // One run whose counts differ: the counting finding says so.
  const miscount = records.map((r, i) => (i === 1 && r.kind === 'attack' ? { ...r, server: { ...r.server, queries: 99 } } : r));
  assert.equal(defenseMenuFindings(miscount, c).find((x) => x.id === 'menu-counts')!.verdict, 'contradicted');
  const rows = menuRows(records, c);
  assert.equal(rows.length, c.defenses.length * (c.attackers.length + 1), 'a row per cell and one per setting for any attacker');
  assert.equal(rows.find((r) => r.defense === 'strong' && r.attackerName === 'hsja')!['success@2'], '3/30 (2–27%)');
  // Per image, any attacker: on the detector vanilla HSJA breaks nothing, the blinded attacker 20 of 30.
  assert.equal(rows.find((r) => r.defense === 'detector' && r.attackerName === ANY_ATTACKER)!['success@2'], '20/30 (47–83%)');
  // The spec selects the config's records only.
  assert.equal(defenseMenu.select!(records, { ...c, images: 10 }).filter((r) => r.kind === 'attack').length, 10 * 5 * 2);
});
