// The HTTP floor for bench:server: the least a Node front end must do to answer an RS query, and so
// the most any Node server can reach on this machine. A bare `node:http` server that, per request,
// reads the input's floats, adds a fixed noise buffer to n copies, makes one onnxruntime run of the n
// copies, votes and answers JSON. No authentication, budget, validation, logging, metrics, fresh
// noise or batching across requests: each of those is a cost rs-arena pays on top, and the bench
// reports rs-arena's throughput as a ratio to this one, measured in the same run under the same load.
//   tsx scripts/floor-server.ts --model fmnist-cnn --port 0 [--threads 2] [--spinning false]
// POST /v1/deployments/n{N}/predict with a float32 body (one input) → {"labels":[k]}. It prints
// "listening <port>" once the session is loaded.
import { createServer } from 'node:http';
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { Rng } from '@rs-arena/shared/rng';
import { OnnxModel } from '../server/src/model.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('tsx scripts/floor-server.ts [options]', {
  model: { type: 'string', default: 'fmnist-cnn' },
  port: { type: 'string', default: '0' },
  threads: { type: 'string', default: '2' },
  spinning: { type: 'string', default: 'false' },
  sigma: { type: 'string', default: '0.25' },
});
const catalog = loadCatalog();
const entry = findModel(catalog, args.model);
if (!entry) throw new Error(`no model ${args.model}`);
const model = await OnnxModel.load(resolveModel(catalog, entry), { threads: Number(args.threads), spinning: args.spinning === 'true', maxBatch: 100_000 });
const d = model.inputSize;
const MAX_N = 100;
// One fixed noise buffer for every request: drawing fresh noise is part of what the floor leaves out.
const noise = Rng.seeded(1).fillNormal(new Float32Array(MAX_N * d));
const sigma = Number(args.sigma);
for (let i = 0; i < noise.length; i++) noise[i] *= sigma;

const server = createServer((req, res) => {
  const m = /^\/v1\/deployments\/n(\d+)\/predict$/.exec(req.url ?? '');
  const n = m ? Number(m[1]) : 0;
  if (req.method !== 'POST' || n < 1 || n > MAX_N) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const x = new Float32Array(body.buffer, body.byteOffset, d);
    // Each request its own copies: onnxruntime may start the run after another request's handler ran.
    const copies = new Float32Array(n * d);
    for (let c = 0; c < n; c++) for (let i = 0; i < d; i++) copies[c * d + i] = x[i] + noise[c * d + i];
    const labels = await model.predict(copies, n, true);
    const votes = new Uint32Array(model.classes);
    for (const l of labels) votes[l]++;
    let top = 0;
    for (let k = 1; k < votes.length; k++) if (votes[k] > votes[top]) top = k;
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"labels":[${top}]}`);
  });
});
server.listen(Number(args.port), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : args.port}\n`);
});
