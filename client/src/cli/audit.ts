// rs-arena audit: a fixed battery of attacks against one endpoint, and a report card that answers
// how many queries the best attacker needs at each distortion bound and which per-key budget keeps
// its success under a chosen rate (client/src/audit/).
import { basename, resolve } from 'node:path';
import { UsageError, integerFlags, parseFlags, usageExit } from './args.js';
import { BATTERY } from '../audit/battery.js';
import { type AuditSummary, runAudit } from '../audit/audit.js';
import { loadInputs } from '../inputs.js';
import { HttpError } from '../oracle-http.js';
import { Progress } from '../progress.js';
import { ProtocolError } from '../protocols/index.js';
import { ResponseError } from '../response.js';
import { TARGET_FLAGS, TARGET_HELP, type Target, TargetUsageError, connectTarget } from '../target.js';
import { endpointFailure } from './attack.js';
import { commandLine, redactUrl } from '../redact.js';
import { checkCampaign, checkQueueUrl } from '../queue/campaign.js';
import { CampaignCancelled } from '../queue/journal.js';

/** The target flags a queued audit's jobs carry (not --header: each worker has its own credentials). */
const QUEUED_TARGET_FLAGS = [
  'encoding',
  'model-version',
  'input-shape',
  'range',
  'input-name',
  'output-name',
  'max-batch',
  'template',
  'label-path',
  'classes',
  'layout',
] as const;

const HELP = `rs-arena audit --deployment ID --epsilon E1,E2,… [options]

Runs a fixed battery of decision-based attacks against one endpoint, on N images, and writes a
folder with audit.json and report.html: clean accuracy as the endpoint answers, whether its answers
are random (a few repeated queries at the decision boundary), per image the best attacker (the
minimum over the battery), success against queries at each L2 bound ε with 95% intervals, the
queries needed for 10/50/90% success, and the per-key budget keeping success at or under --rate.
Battery: ${BATTERY.deterministic.join(', ')} (deterministic answers) or ${BATTERY.random.join(', ')} (random answers).

  --endpoint URL       the endpoint (env RS_ARENA_ENDPOINT; default http://127.0.0.1:8080)
  --key KEY            API key (env RS_ARENA_KEY)
  --deployment ID      deployment or model name
${TARGET_HELP}  --epsilon LIST       L2 bounds in [0,1] pixel space, comma-separated (default 0.5,1,2)
  --budget N           queries per attacker and image (default 10000)
  --images SOURCE      "sample" (default), a folder of PNG/JPEG images, or a raw float32 file
  --labels FILE        true labels for a folder or raw file
  --count N            images (default 20)       --offset N   first image (default 0)
  --rate R             the success rate the recommended budget keeps under (default 0.1)
  --fail-above R       exit code 3 when success within the budget exceeds R at any ε (CI gate)
  --concurrency N      images attacked at once (default 4)
  --seed N             seed of the attacks (default 0)
  --out DIR            the audit's folder (default audit-<deployment>); a rerun resumes
  --json               print audit.json's summary on stdout
  --queue URL          run the attacks as jobs that \`rs-arena worker\` processes take from this Redis
                       (redis://host:6379; or $RS_ARENA_QUEUE); the workers use their own keys
  --campaign NAME      the campaign's name on the queue (default: the audit folder's name); a
                       resubmitted audit queues nothing twice (docs/scale-out.md)

Exit codes: 0 done (gate passed), 1 runtime error, 2 usage error, 3 gate failed.
`;

export async function auditCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseFlags(argv, {
      endpoint: { type: 'string', default: process.env.RS_ARENA_ENDPOINT ?? 'http://127.0.0.1:8080' },
      key: { type: 'string', default: process.env.RS_ARENA_KEY },
      deployment: { type: 'string' },
      epsilon: { type: 'string', default: '0.5,1,2' },
      budget: { type: 'string', default: '10000' },
      images: { type: 'string', default: 'sample' },
      labels: { type: 'string' },
      count: { type: 'string', default: '20' },
      offset: { type: 'string', default: '0' },
      rate: { type: 'string', default: '0.1' },
      'fail-above': { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      seed: { type: 'string', default: '0' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      queue: { type: 'string', default: process.env.RS_ARENA_QUEUE },
      campaign: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      ...TARGET_FLAGS,
    }).values;
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!args.deployment) return usage('--deployment is required');
  const epsilons = args.epsilon.split(',').map((s) => Number(s.trim()));
  if (!epsilons.length || epsilons.some((e) => !Number.isFinite(e) || e <= 0))
    return usage(`--epsilon expects positive numbers separated by commas, got "${args.epsilon}"`);
  let ints;
  try {
    ints = integerFlags(args, { budget: 1, count: 1, offset: 0, concurrency: 1, seed: 0 });
  } catch (err) {
    return usage((err as Error).message);
  }
  const rate = Number(args.rate);
  if (!(rate >= 0 && rate < 1)) return usage(`--rate must be in [0, 1), got "${args.rate}"`);
  const failAbove = args['fail-above'] === undefined ? null : Number(args['fail-above']);
  if (failAbove !== null && !(failAbove >= 0 && failAbove <= 1)) return usage(`--fail-above must be in [0, 1], got "${args['fail-above']}"`);

  const dir = resolve(args.out ?? `audit-${args.deployment.replace(/[^A-Za-z0-9._-]+/g, '_')}`);
  let queue: { url: string; campaign: string; queuedAttacks: QueuedAttacks } | undefined;
  if (args.queue) {
    const wrong = checkQueueUrl(args.queue);
    if (wrong) return usage(wrong);
    const campaign = args.campaign ?? basename(dir);
    const badName = checkCampaign(campaign, !args.campaign, 'audit folder');
    if (badName) return usage(badName);
    // The queued runner loads BullMQ and ioredis (about 0.3 CPU-s): only a queued audit does.
    queue = { url: args.queue, campaign, queuedAttacks: (await import('../audit/queued.js')).queuedAttacks };
  } else if (args.campaign) return usage('--campaign goes with --queue');

  let target: Target;
  try {
    target = await connectTarget({ ...args, deployment: args.deployment, connections: ints.concurrency });
  } catch (err) {
    if (err instanceof TargetUsageError) return usage(err.message);
    if (err instanceof HttpError || err instanceof ProtocolError || err instanceof ResponseError) return fail(err.message);
    return fail(`cannot reach ${args.endpoint}: ${(err as Error).message}`);
  }
  const { oracle } = target;
  let summary: AuditSummary;
  try {
    const images = await loadInputs(
      { source: args.images, count: ints.count, offset: ints.offset, labels: args.labels },
      { shape: oracle.inputShape, range: oracle.range, dataset: target.dataset },
    );
    process.stderr.write(
      `auditing ${target.banner} at ${redactUrl(args.endpoint)}: ${images.length} images, ${ints.budget} queries per attacker, ε = ${epsilons.join(', ')}\n`,
    );
    const progress: Progress[] = [];
    summary = await runAudit({
      target,
      endpoint: redactUrl(args.endpoint),
      deployment: args.deployment,
      epsilons,
      budget: ints.budget,
      images,
      targetRate: rate,
      failAbove,
      concurrency: ints.concurrency,
      seed: ints.seed,
      dir,
      command: commandLine('rs-arena audit', argv),
      onCampaign: (attack, total) => {
        progress.at(-1)?.finish();
        const p = new Progress(attack, total, ints.budget);
        progress.push(p);
        return p.onEvent;
      },
      log: (line) => process.stderr.write(`${line}\n`),
      runAttacks: queue
        ? (campaigns) =>
            queue.queuedAttacks(
              {
                url: queue.url,
                campaign: queue.campaign,
                endpoint: args.endpoint,
                // The flags a worker builds the same target from (its own key and headers; the protocol as detected here).
                target: {
                  deployment: args.deployment!,
                  protocol: target.protocol,
                  ...Object.fromEntries(QUEUED_TARGET_FLAGS.flatMap((f) => (args[f] === undefined ? [] : [[f, args[f]]]))),
                },
                log: (line) => process.stderr.write(`${line}\n`),
              },
              campaigns,
            )
        : undefined,
    });
    progress.at(-1)?.finish();
    for (const e of summary.epsilons) {
      const r = e.recommendedBudget;
      const c = e.confidentBudget;
      const confident = c ? `${c.atLeast ? '≥ ' : ''}${c.budget}` : `none (${e.attacked} images cannot show it)`;
      process.stderr.write(
        `ε = ${e.epsilon}: ${e.broken}/${e.attacked} broken within ${ints.budget} queries; budget for ≤ ${rate} success: ${r.atLeast ? '≥ ' : ''}${r.budget} on these images, ${confident} at 95% confidence\n`,
      );
    }
    process.stderr.write(`report: ${resolve(dir, 'report.html')}\n`);
  } catch (err) {
    const failure = endpointFailure(err, args.endpoint);
    if (failure) return fail(failure);
    // On a queue: a cancelled campaign, tasks failed on the workers (a resubmission retries them).
    if (err instanceof CampaignCancelled || (queue && err instanceof Error && /tasks failed on the workers|queued audit/.test(err.message)))
      return fail(err.message);
    throw err;
  } finally {
    await oracle.close();
  }
  if (args.json)
    process.stdout.write(
      JSON.stringify({ ...summary, images: undefined, epsilons: summary.epsilons.map((e) => ({ ...e, curve: undefined })) }, null, 2) + '\n',
    );
  if (summary.gateFailed?.length) {
    process.stderr.write(`rs-arena audit: gate failed: success exceeds ${failAbove} at ε = ${summary.gateFailed.join(', ')}\n`);
    return 3;
  }
  return 0;
}

type QueuedAttacks = typeof import('../audit/queued.js').queuedAttacks;

function usage(message: string): number {
  return usageExit('rs-arena audit', message);
}

function fail(message: string): number {
  process.stderr.write(`rs-arena audit: ${message}\n`);
  return 1;
}
