// Counters in bulk: requests add to plain numbers that reach prom-client when a scrape collects;
// every scrape shows the exact totals so far, in both registries, and never counts twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../../server/src/metrics.js';

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('every scrape shows the exact totals so far, disclosed or not, and a second scrape adds nothing', async () => {
  const m = new Metrics();
  const open = { id: 'open', disclosed: true };
  const hidden = { id: 'hidden', disclosed: false };
  m.answered(open, 'predict', 3, 300, 0.01);
  m.answered(open, 'predict', 2, 200, 0.02);
  m.answered(hidden, 'votes', 1, 50, 0.03);
  for (let i = 0; i < 4; i++) m.request('/v1/deployments/:id/predict', 200);
  m.request('/v1/deployments/:id/predict', 429);
  for (let scrape = 0; scrape < 2; scrape++) {
    const full = await m.render(true);
    assert.equal(value(full, 'rs_arena_queries_total{deployment="open",route="predict"}'), 5);
    assert.equal(value(full, 'rs_arena_forward_passes_total{deployment="open"}'), 500);
    assert.equal(value(full, 'rs_arena_queries_total{deployment="hidden",route="votes"}'), 1);
    assert.equal(value(full, 'rs_arena_request_duration_seconds_count{deployment="open",route="predict"}'), 2);
    assert.equal(value(full, 'rs_arena_http_requests_total{route="/v1/deployments/:id/predict",status="200"}'), 4);
    assert.equal(value(full, 'rs_arena_http_requests_total{route="/v1/deployments/:id/predict",status="429"}'), 1);
    const publicText = await m.render(false);
    assert.equal(value(publicText, 'rs_arena_queries_total{deployment="open",route="predict"}'), 5);
    assert.equal(value(publicText, 'rs_arena_queries_total{deployment="hidden",route="votes"}'), undefined, 'an undisclosed deployment stays out');
  }
  m.answered(open, 'predict', 1, 100, 0.01);
  const later = await m.render(false);
  assert.equal(value(later, 'rs_arena_queries_total{deployment="open",route="predict"}'), 6);
  assert.equal(value(await m.render(true), 'rs_arena_forward_passes_total{deployment="open"}'), 600);
});

test("each model's runs and the copies they held: read from the source at every scrape, shown only with every deployment", async () => {
  const m = new Metrics();
  const counts = [
    { model: 'fmnist-cnn', runs: 3, copies: 120 },
    { model: 'fmnist-cnn@remote-0123456789ab', runs: 2, copies: 8 },
  ];
  m.watchModelRuns(() => counts);
  for (let scrape = 0; scrape < 2; scrape++) {
    const full = await m.render(true);
    assert.equal(value(full, 'rs_arena_model_runs_total{model="fmnist-cnn"}'), 3);
    assert.equal(value(full, 'rs_arena_model_run_copies_total{model="fmnist-cnn"}'), 120);
    assert.equal(value(full, 'rs_arena_model_run_copies_total{model="fmnist-cnn@remote-0123456789ab"}'), 8);
  }
  // The totals as they are now, not added to the last scrape's.
  counts[0] = { model: 'fmnist-cnn', runs: 5, copies: 130 };
  assert.equal(value(await m.render(true), 'rs_arena_model_runs_total{model="fmnist-cnn"}'), 5);
  assert.equal(value(await m.render(true), 'rs_arena_model_run_copies_total{model="fmnist-cnn"}'), 130);
  // A model's runs mix its deployments, undisclosed ones too: not in the public view.
  assert.doesNotMatch(await m.render(false), /rs_arena_model_run/);
});
