// The CLI as an attacker runs it: its own process, real HTTP to a listening server. The server's
// usage counts must equal the client's, a rerun must resume instead of repeating, and a server-side
// budget must end the attacks cleanly with both sides still agreeing. Usage errors and help texts
// are what the command says, and a rerun is about what the command does with its results file, so
// those run its main() in this process (real HTTP still; no second of startup each); each test's
// first campaign runs in a process of its own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { UsageResponse } from '@rs-arena/shared/api';
import { ATTACK_NAMES, ATTACKS } from '../../client/src/attacks/index.js';
import { PRESETS } from '../../client/src/experiments/presets.js';
import { records, rsArena, rsArenaInProcess, spent } from '../helpers/cli.js';
import { KEYS, TEST_DEPLOYMENTS, testApp } from '../helpers/app.js';
import { readNpy } from '../../client/src/npy.js';
import { loadCatalog, loadSample } from '@rs-arena/shared/catalog';

const images = loadSample(loadCatalog()).images;

let app: FastifyInstance;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'rs-arena-cli-'));

before(async () => {
  app = await testApp({}, null);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `rs-arena attack` against the test server, in its own process. */
function cli(args: string[], key = KEYS.client): Promise<{ code: number; stdout: string; stderr: string }> {
  return rsArena(['attack', '--endpoint', base, '--key', key, ...args]);
}

/** The same, run in this process (what it says and its exit code; no process of its own). */
function cliHere(args: string[], key = KEYS.client): Promise<{ code: number; stdout: string; stderr: string }> {
  return rsArenaInProcess(['attack', '--endpoint', base, '--key', key, ...args]);
}

async function serverQueries(key: string, deployment: string): Promise<number> {
  const res = await fetch(`${base}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
  const usage = UsageResponse.parse(await res.json());
  return usage.deployments.find((d) => d.deployment === deployment)?.queries ?? 0;
}

test('the CLI attacks over HTTP; the server counts exactly the queries the client reports; reruns resume', { timeout: 120_000 }, async () => {
  const out = join(dir, 'plain.jsonl');
  const first = await cli(['--deployment', 'plain', '--attack', 'hsja,rays,surfree', '--budget', '300', '--count', '3', '--concurrency', '2', '--out', out]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /deployment\s+attack\s+images\s+accuracy\s+success\s+confirmed\s+mean L2\s+median L2\s+queries\s+bad q\.\s+cut short/);
  let rs = records(out);
  assert.equal(rs.length, 9);
  for (const r of rs) {
    assert.ok(r.success, `${r.attack} ${r.image}: ${r.stopReason}`);
    assert.ok(r.queries.total <= 300);
    // The saved adversarial is the reported one, a .npy carrying its shape.
    const { shape, values: adv } = readNpy(readFileSync(join(dir, r.adversarialFile!)));
    assert.deepEqual(shape, [1, 28, 28]);
    assert.equal(adv.length, 784);
    assert.ok(Math.abs(Math.hypot(...adv.map((v, i) => v - images[i + 784 * Number(r.image.split(':')[1])])) - r.l2!) < 1e-3, 'its L2 is the recorded one');
    // The endpoint's answer on the clean image is kept (the sample's labels are the truth here).
    assert.equal(r.cleanLabel, r.trueLabel);
    assert.ok(existsSync(join(dir, r.previewFile!)));
  }
  assert.equal(await serverQueries(KEYS.client, 'plain'), spent(rs));

  // Resume: the first three images are in the file already; only two new ones cost queries.
  const again = await cliHere(['--deployment', 'plain', '--attack', 'hsja', '--budget', '300', '--count', '5', '--out', out]);
  assert.equal(again.code, 0, again.stderr);
  rs = records(out);
  assert.equal(rs.length, 11);
  assert.equal(await serverQueries(KEYS.client, 'plain'), spent(rs));

  // Changed attack options are another run: new records, not the old ones reused; the same
  // options again resume; an option given at its default value is the default run.
  const withGamma = await cliHere(['--deployment', 'plain', '--attack', 'hsja', '--budget', '300', '--count', '2', '--option', 'gamma=10', '--out', out]);
  assert.equal(withGamma.code, 0, withGamma.stderr);
  rs = records(out);
  assert.equal(rs.length, 13);
  assert.deepEqual(
    rs.slice(-2).map((r) => r.attackOptions.gamma),
    [10, 10],
  );
  for (const args of [
    ['--option', 'gamma=10'],
    ['--option', 'gamma=1'],
  ]) {
    const same = await cliHere(['--deployment', 'plain', '--attack', 'hsja', '--budget', '300', '--count', '2', ...args, '--out', out]);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(records(out).length, 13, `${args.join(' ')}: resumed`);
  }
  assert.equal(await serverQueries(KEYS.client, 'plain'), spent(rs));

  // Another endpoint (a second server) is another run too.
  const other = await testApp({ deployments: TEST_DEPLOYMENTS.filter((d) => d.id === 'plain') }, null);
  try {
    const otherBase = await other.listen({ port: 0, host: '127.0.0.1' });
    const elsewhere = await rsArenaInProcess([
      'attack',
      '--endpoint',
      otherBase,
      '--key',
      KEYS.client,
      '--deployment',
      'plain',
      '--attack',
      'hsja',
      '--budget',
      '300',
      '--count',
      '2',
      '--out',
      out,
    ]);
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    rs = records(out);
    assert.equal(rs.length, 15);
    assert.deepEqual(
      rs.slice(-2).map((r) => r.endpoint),
      [otherBase, otherBase],
    );
  } finally {
    await other.close();
  }
});

test('a server-side budget ends the campaign cleanly (429), and both counts still agree', { timeout: 120_000 }, async () => {
  const create = await app.inject({
    method: 'POST',
    url: '/v1/admin/keys',
    headers: { authorization: `Bearer ${KEYS.admin}` },
    payload: { id: 'limited', role: 'client', budgets: { rs: 250 } },
  });
  assert.equal(create.statusCode, 201, create.body);
  const key = create.json().secret as string;
  const out = join(dir, 'rs.jsonl');
  const run = await cli(['--deployment', 'rs', '--attack', 'hsja', '--budget', '200', '--count', '3', '--concurrency', '1', '--out', out], key);
  // Cut short: exit 3, said on stderr and under the table; the refused image is not done and the
  // third was never started (it would have been refused too).
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /cut short: 2 image run\(s\) not done/);
  assert.match(run.stdout, /note: 1 image run\(s\) were cut short by the server's budget/);
  let rs = records(out);
  assert.deepEqual(
    rs.map((r) => r.stopReason === 'budget-refused'),
    [false, true],
  );
  assert.equal(await serverQueries(key, 'rs'), spent(rs));
  assert.ok(spent(rs) <= 250);
  // Stopped by the server's 429 before its own budget of 200: refused batches were not booked,
  // so the client's count still equals the server's.
  assert.ok(rs[1].queries.total < 200);
  // The same stop reason as over /v2, and the disclosed RS deployment's summary says what success means.
  assert.match(run.stdout, /rs answers at random \(it discloses a noise defense\): "success" there means answered wrongly once/);
  assert.ok(rs[0].confirmation === null || rs[0].confirmation!.answers === 5);

  // More budget: the rerun resumes the refused image and the one never started, and ends done.
  const raise = await app.inject({
    method: 'PUT',
    url: '/v1/admin/keys/limited/budgets',
    headers: { authorization: `Bearer ${KEYS.admin}` },
    payload: { deployment: 'rs', limit: 2000 },
  });
  assert.equal(raise.statusCode, 200, raise.body);
  const again = await cliHere(['--deployment', 'rs', '--attack', 'hsja', '--budget', '200', '--count', '3', '--concurrency', '1', '--out', out], key);
  assert.equal(again.code, 0, again.stderr);
  rs = records(out);
  assert.equal(rs.length, 4, 'the first image was not attacked again');
  assert.deepEqual(
    rs.slice(2).map((r) => r.image),
    ['sample:1', 'sample:2'],
  );
  assert.ok(rs.slice(2).every((r) => r.stopReason !== 'budget-refused'));
});

test('bad CLI input is a clear usage error, not a stack trace', { timeout: 240_000 }, async () => {
  // What the command says, run in this process (cliHere, rsArenaInProcess); in a process of its own
  // the failure the command does not catch itself (down) and a usage error's whole stderr (typo).
  const unknown = await cliHere(['--deployment', 'plain', '--attack', 'fgsm']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, new RegExp(`unknown attack "fgsm"; choose from ${ATTACK_NAMES.join(', ')} \\(rs-arena attack --help for help\\)\n$`));
  const budget = await cliHere(['--deployment', 'plain', '--budget', 'lots']);
  assert.equal(budget.code, 2);
  assert.match(budget.stderr, /--budget must be a non-negative integer, got "lots"/);
  const option = await cliHere(['--deployment', 'plain', '--option', 'gama=3']);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /--option gama: not an option of hsja/);
  // Text options are checked (constraint=l7 used to run the L2 attack), numbers too.
  const text = await cliHere(['--deployment', 'plain', '--attack', 'hsja', '--option', 'constraint=l7']);
  assert.equal(text.code, 2);
  assert.match(text.stderr, /--option constraint=l7: hsja's constraint must be one of l2, linf/);
  const notNumber = await cliHere(['--deployment', 'plain', '--attack', 'surfree', '--option', 'thetaMax=wide']);
  assert.equal(notNumber.code, 2);
  assert.match(notNumber.stderr, /--option thetaMax=wide: surfree's thetaMax must be a number > 0, ≤ 90/);
  const range = await cliHere(['--deployment', 'plain', '--attack', 'surfree', '--option', 'thetaMax=120']);
  assert.equal(range.code, 2);
  assert.match(range.stderr, /--option thetaMax=120: surfree's thetaMax must be a number > 0, ≤ 90/);
  // --config is validated: the error names the file and the field.
  const config = join(dir, 'bad-preset.json');
  const smoke = PRESETS.smoke as { distortion: Record<string, unknown> };
  writeFileSync(config, JSON.stringify({ name: 'bad', description: 'bad', distortion: { ...smoke.distortion, ns: 3 } }));
  const badConfig = await rsArenaInProcess(['experiment', '--config', config, '--out', join(dir, 'bad')]);
  assert.equal(badConfig.code, 2);
  assert.match(badConfig.stderr, new RegExp(`${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: distortion\\.ns: `));
  writeFileSync(config, JSON.stringify({ name: 'bad', description: 'bad', distortion: { ...smoke.distortion, attacks: ['fgsm'] } }));
  const badAttack = await rsArenaInProcess(['experiment', '--config', config, '--out', join(dir, 'bad')]);
  assert.equal(badAttack.code, 2);
  assert.match(badAttack.stderr, /distortion\.attacks\.0: unknown attack "fgsm"/);
  const missing = await cliHere(['--deployment', 'nope', '--out', join(dir, 'x.jsonl')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /HTTP 404.*nope/);
  const badKey = await cliHere(['--deployment', 'plain', '--out', join(dir, 'x.jsonl')], 'wrong-key-0123456789');
  assert.equal(badKey.code, 1);
  assert.match(badKey.stderr, /HTTP 401/);
  // Nothing listens on port 1: the experiment's first admin call fails, and the command says so in one line.
  const down = await rsArena([
    'experiment',
    '--preset',
    'smoke',
    '--out',
    join(dir, 'down'),
    '--endpoint',
    'http://127.0.0.1:1',
    '--admin-key',
    'a',
    '--evaluator-key',
    'b',
    '--client-key',
    'c',
  ]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^rs-arena: connect ECONNREFUSED 127\.0\.0\.1:1/m);
  for (const r of [unknown, budget, option, text, notNumber, range, badConfig, badAttack, missing, badKey, down]) assert.doesNotMatch(r.stderr, /\n\s+at /);
  // A usage error is one line, with the closest known name, and no help text (help only with --help).
  const typo = await cli(['--deployment', 'plain', '--budgte', '5']);
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr, 'rs-arena attack: unknown option --budgte (did you mean --budget?) (rs-arena attack --help for help)\n');
  for (const r of [unknown, budget, option, text, notNumber, range, badConfig, badAttack]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  const command = await rsArenaInProcess(['attak']);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /^rs-arena: unknown command "attak" \(did you mean "attack"\?\)/);
  const preset = await rsArenaInProcess(['experiment', '--preset', 'smok']);
  assert.equal(preset.code, 2);
  assert.match(preset.stderr, /unknown preset "smok" \(did you mean "smoke"\?\)/);
  const report = await rsArenaInProcess(['report']);
  assert.equal(report.code, 2);
  assert.equal(report.stderr, 'rs-arena report: a results folder is required (rs-arena report --help for help)\n');
  assert.equal(report.stdout, '');
});

test('every command answers --help on stdout with exit 0', { timeout: 60_000 }, async () => {
  for (const args of [['--help'], ['attack', '--help'], ['experiment', '--help'], ['report', '--help'], ['accuracy', '--help']]) {
    const r = await rsArenaInProcess(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^(rs-arena|Commands)/m, args.join(' '));
    assert.equal(r.stderr, '');
  }
});

test('attack --help lists every registered attack and each of its options with range, default and doc', { timeout: 30_000 }, async () => {
  // In its own process: the help as a user sees it, nothing else on stderr (no runtime warning).
  const help = await rsArena(['attack', '--help']);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, '');
  for (const [name, attack] of Object.entries(ATTACKS)) {
    assert.match(help.stdout, new RegExp(`^  ${name}\\s+${attack.summary.slice(0, 20).replace(/[()]/g, '\\$&')}`, 'm'));
    for (const [option, schema] of Object.entries(attack.options.shape)) {
      assert.match(help.stdout, new RegExp(`^    ${option}\\s+\\S.*default \\S+\\s+\\S`, 'm'), `${name} ${option}`);
      assert.ok(schema.description, `${name} ${option} has a doc line`);
    }
  }
  assert.match(help.stdout, /^ {4}constraint\s+l2 \| linf\s+default l2 /m);
});
