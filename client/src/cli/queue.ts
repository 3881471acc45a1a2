// rs-arena queue status|pause|resume|cancel|remove: a distributed campaign inspected and steered
// (client/src/queue/control.ts).
import { checkQueueUrl, redact } from '../queue/campaign.js';
import { QueueControl } from '../queue/control.js';
import { UsageError, parseFlags, unknownName, usageExit } from './args.js';

const HELP = `rs-arena queue <status|pause|resume|cancel|remove> [--campaign NAME] --queue URL

  status     every campaign (or --campaign's): its state, tasks, records written, tasks waiting,
             running, delayed and failed, queries booked, tasks retried; workers connected
             (--json: the same as JSON)
  pause      no task of the campaign starts; tasks in flight finish
  resume     a paused (or cancelled) campaign's tasks start again
  cancel     removes the campaign's queued tasks; tasks in flight stop at their next query
  remove     deletes a campaign with no task in flight from the queue's Redis (jobs, records,
             journals); its results files keep the records

  --queue URL       the campaigns' Redis (or $RS_ARENA_QUEUE)
  --campaign NAME   required for pause, resume, cancel and remove
`;

const ACTIONS = ['status', 'pause', 'resume', 'cancel', 'remove'] as const;

export async function queueCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(
      argv,
      {
        queue: { type: 'string', default: process.env.RS_ARENA_QUEUE },
        campaign: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  const a = parsed.values;
  if (a.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [action, ...extra] = parsed.positionals;
  if (!action) return usage(`give an action: ${ACTIONS.join(', ')}`);
  if (!(ACTIONS as readonly string[]).includes(action)) return usage(unknownName('action', action, ACTIONS).message);
  if (extra.length) return usage(`unexpected argument "${extra[0]}"`);
  if (!a.queue) return usage('--queue is required (or RS_ARENA_QUEUE)');
  const wrong = checkQueueUrl(a.queue);
  if (wrong) return usage(wrong);
  if (action !== 'status' && !a.campaign) return usage(`${action} needs --campaign`);
  const control = new QueueControl(a.queue);
  try {
    if (action === 'status') {
      const status = await control.status(a.campaign);
      const workers = await control.workers();
      if (a.json) process.stdout.write(JSON.stringify({ workers, campaigns: status }, null, 2) + '\n');
      else {
        const head = ['campaign', 'state', 'tasks', 'done', 'waiting', 'active', 'delayed', 'failed', 'queries', 'retried'];
        const rows = status.map((s) => [s.campaign, s.state, s.tasks, s.done, s.waiting, s.active, s.delayed, s.failed, s.queries, s.retried].map(String));
        const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        for (const r of [head, ...rows]) process.stdout.write(r.map((c, i) => (i < 2 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ') + '\n');
        process.stdout.write(`${workers} workers connected to ${redact(a.queue)}\n`);
      }
    } else if (action === 'pause') {
      await control.pause(a.campaign!);
      process.stdout.write(`campaign "${a.campaign}" paused: no task of it starts; tasks in flight finish\n`);
    } else if (action === 'resume') {
      await control.resume(a.campaign!);
      process.stdout.write(`campaign "${a.campaign}" running\n`);
    } else if (action === 'remove') {
      const tasks = await control.remove(a.campaign!);
      process.stdout.write(`campaign "${a.campaign}" removed from the queue (${tasks} tasks)\n`);
    } else {
      const removed = await control.cancel(a.campaign!);
      process.stdout.write(`campaign "${a.campaign}" cancelled: ${removed} queued tasks removed; tasks in flight stop at their next query\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`rs-arena queue: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await control.close();
  }
}

function usage(message: string): number {
  return usageExit('rs-arena queue', message);
}
