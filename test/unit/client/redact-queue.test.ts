// A queue's Redis URL may hold a password (redis://:password@host): the command recorded with a
// campaign (preset.json, report.html) shows it redacted, given as `--queue URL` or `--queue=URL`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactArgv } from '../../../client/src/redact.js';
import { redact } from '../../../client/src/queue/campaign.js';

test('a Redis password is redacted from recorded commands and messages', () => {
  const argv = ['experiment', '--queue', 'redis://:s3cret-pass@redis:6379', '--queue=rediss://user:s3cret-pass@redis:6380/2', '--campaign', 'c1'];
  const out = redactArgv(argv).join(' ');
  assert.ok(!out.includes('s3cret-pass'), out);
  assert.match(out, /--queue redis:\/\/<redacted>@redis:6379 --queue=rediss:\/\/<redacted>@redis:6380\/2 --campaign c1/);
  assert.equal(redact('redis://:s3cret-pass@redis:6379'), 'redis://:***@redis:6379');
});
