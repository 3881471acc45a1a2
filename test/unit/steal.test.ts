// The bench's steal share (scripts/steal.ts): parsed from /proc/stat's "cpu" line, as a share of all
// CPU time between two readings; absent, not zero, where there is no such line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cpuTicks, stealShare } from '../../scripts/steal.js';

// The "cpu" line of /proc/stat read on the 2-core Xeon guest of 2026-12-02, ten seconds apart.
const BEFORE = 'cpu  260365 28 25035 395527 678 0 1914 1499 0 0\n';
const AFTER = 'cpu  261315 28 25136 396269 678 0 1957 1763 0 0\n';

test('the cpu line: all ticks (guest time not counted twice) and the stolen ones', () => {
  assert.deepEqual(cpuTicks(BEFORE), { total: 260365 + 28 + 25035 + 395527 + 678 + 0 + 1914 + 1499, steal: 1499 });
  // Between the two: 264 of 2,000 ticks stolen (the 2 cores' 10 s at 100 Hz).
  const share = stealShare(cpuTicks(BEFORE), cpuTicks(AFTER));
  assert.equal(share, 264 / (950 + 101 + 742 + 43 + 264));
  assert.ok(Math.abs(share! - 0.1257) < 1e-3);
  // The machine's line, not a per-CPU one (an invented cpu0 line first, other lines after).
  assert.deepEqual(cpuTicks(`cpu0 9 9 9 9 9 9 9 9 0 0\n${BEFORE}intr 1 2 3\n`), cpuTicks(BEFORE));
});

test('no cpu line, a short one, or no time between the readings: null, not a share of 0', () => {
  assert.equal(cpuTicks(null), null);
  assert.equal(cpuTicks('intr 1 2 3\n'), null);
  assert.equal(cpuTicks('cpu  1 2 3 4\n'), null);
  assert.equal(cpuTicks('cpu  1 2 3 4 5 6 x 8 9 10\n'), null);
  assert.equal(stealShare(null, cpuTicks(AFTER)), null);
  assert.equal(stealShare(cpuTicks(AFTER), cpuTicks(AFTER)), null);
});

test('on this machine, where /proc/stat exists, two readings give a share between 0 and 1', { skip: !existsSync('/proc/stat') && 'no /proc/stat' }, () => {
  const a = cpuTicks();
  assert.ok(a && a.total > 0);
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i;
  const share = stealShare(a, cpuTicks());
  assert.ok(x > 0 && (share === null || (share >= 0 && share <= 1)), String(share));
});
