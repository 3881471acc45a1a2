// rs-arena worker --queue URL: runs the tasks of distributed campaigns (client/src/queue/worker.ts)
// until stopped. SIGTERM or Ctrl-C: no new task, the ones in flight finish; a second signal stops
// at once (those tasks are taken over by other workers, their journals spare the budget).
import { resolve } from 'node:path';
import { checkQueueUrl, redact } from '../queue/campaign.js';
import { startWorker } from '../queue/worker.js';
import { UsageError, parseFlags, usageExit } from './args.js';

const HELP = `rs-arena worker --queue URL [options]

Runs the attack tasks of campaigns submitted with \`rs-arena experiment … --queue URL\` or
\`rs-arena audit … --queue URL\`, on this machine, until stopped (docs/scale-out.md). Start as many as you like, anywhere.

  --queue URL          the campaigns' Redis (redis://host:6379, rediss:// for TLS; or $RS_ARENA_QUEUE)
  --concurrency N      tasks at once (default 2)
  --endpoint URL       attack this URL instead of the one each campaign was submitted with
                       (or $RS_ARENA_ENDPOINT), e.g. the server's address inside a cluster
  --client-key K       the endpoint's client key (or $RS_ARENA_CLIENT_KEY)
  --evaluator-key K    its evaluator key, for votes and assessments (or $RS_ARENA_EVALUATOR_KEY);
                       experiments' tasks need it, audits' do not
  --header 'N: V'      a request header for audits' targets, repeatable: this worker's credentials
                       for an endpoint with other auth than a key (jobs carry none)
  --imagenet DIR       ImageNet images, as for rs-arena experiment
  --lock-seconds S     a worker silent this long is taken for dead and its task rerun elsewhere
                       (default 30)
`;

export async function workerCommand(argv: string[]): Promise<number> {
  let a;
  try {
    a = parseFlags(argv, {
      queue: { type: 'string', default: process.env.RS_ARENA_QUEUE },
      concurrency: { type: 'string', default: '2' },
      endpoint: { type: 'string', default: process.env.RS_ARENA_ENDPOINT },
      'client-key': { type: 'string', default: process.env.RS_ARENA_CLIENT_KEY },
      'evaluator-key': { type: 'string', default: process.env.RS_ARENA_EVALUATOR_KEY },
      imagenet: { type: 'string' },
      header: { type: 'string', multiple: true, default: [] as string[] },
      'lock-seconds': { type: 'string', default: '30' },
      help: { type: 'boolean', short: 'h', default: false },
    }).values;
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  if (a.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!a.queue) return usage('--queue is required (or RS_ARENA_QUEUE)');
  const wrong = checkQueueUrl(a.queue);
  if (wrong) return usage(wrong);
  const concurrency = Number(a.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
    return usage(`--concurrency must be an integer from 1 to 256, got "${a.concurrency}"`);
  const lock = Number(a['lock-seconds']);
  if (!Number.isFinite(lock) || lock < 1 || lock > 3600) return usage(`--lock-seconds must be a number from 1 to 3600, got "${a['lock-seconds']}"`);
  if (!a['client-key']) return usage('--client-key is required (or RS_ARENA_CLIENT_KEY)');
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const imagenetImages = resolve(
    a.imagenet ??
      (process.env.RS_ARENA_IMAGENET_DIR ? `${process.env.RS_ARENA_IMAGENET_DIR}/images` : resolve(import.meta.dirname, '../../../../shared/imagenet/images')),
  );
  const w = await startWorker({
    url: a.queue,
    concurrency,
    keys: { client: a['client-key'], evaluator: a['evaluator-key'] ?? '' },
    endpoint: a.endpoint,
    imagenetImages,
    headers: a.header,
    lockMs: Math.round(lock * 1000),
    log,
  });
  log(`worker ready on ${redact(a.queue)}: ${concurrency} tasks at once${a.endpoint ? `, attacking ${a.endpoint}` : ''}`);
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log(`${signal} again: stopping now (tasks in flight go to other workers)`);
        w.close(true).finally(done);
        return;
      }
      stopping = true;
      log(`${signal}: finishing the tasks in flight (again to stop now)`);
      w.close().finally(done);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

function usage(message: string): number {
  return usageExit('rs-arena worker', message);
}
