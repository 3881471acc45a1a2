// A command that runs here (`rs-arena experiment`, `report`, `audit` without --queue, `attack`) does not load
// the Redis clients (ioredis, and BullMQ on it: about 0.3 CPU-s at every start): it checks
// --queue and --campaign with queue/campaign.ts and loads the queue's runners only when queued.
// Checked in a process of its own (a test process may have loaded ioredis for another file): the
// CommonJS module cache lists ioredis once anything imported it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { checkCampaign } from '../../../client/src/queue/campaign.js';

/** Whether importing `modules` (paths from client/src) loads ioredis, in a fresh process. */
function loadsRedis(modules: string[]): boolean {
  const urls = modules.map((m) => new URL(`../../../client/src/${m}`, import.meta.url).href);
  const script = `import { createRequire } from 'node:module';
for (const url of ${JSON.stringify(urls)}) await import(url);
const cache = createRequire(import.meta.url).cache;
process.stdout.write(String(Object.keys(cache).some((k) => k.includes('/node_modules/ioredis/'))));`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }) === 'true';
}

test('a local experiment, report, audit or attack loads no Redis client; the queue runner and a worker do', { timeout: 60_000 }, () => {
  assert.equal(loadsRedis(['cli/experiment.js', 'cli/audit.js', 'cli/attack.js', 'report/report.js', 'experiments/run.js']), false);
  // The control: the same check sees the clients where they are loaded.
  assert.equal(loadsRedis(['queue/submit.js']), true);
  assert.equal(loadsRedis(['cli/worker.js']), true);
});

test('a campaign name: the rule, and the message naming the folder it defaulted to', () => {
  assert.equal(checkCampaign('paper-protocol_2.v1', false, 'results folder'), null);
  assert.equal(checkCampaign('a'.repeat(64), false, 'results folder'), null);
  assert.match(checkCampaign('a'.repeat(65), false, 'results folder')!, /^--campaign "a{65}": letters, digits, "\.", "_" and "-" only \(64 at most\)$/);
  assert.match(checkCampaign('my results', true, 'audit folder')!, /"my results".*; the audit folder's name is the default: give --campaign$/);
  assert.ok(checkCampaign('-leading', false, 'results folder'));
});
