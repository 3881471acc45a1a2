// The task kinds a queue worker runs, by name: the job's `kind`. Adding one (an audit's task, say)
// is a TaskKind (experiments/tasks.ts: its payload schema, its budget, its run) and one line here;
// the submitter (submit.ts), the worker (worker.ts), the journal and `rs-arena queue` need nothing else.
import { assessedAttack } from '../experiments/assessed-attack.js';
import type { TaskKind } from '../experiments/tasks.js';

const kinds = [assessedAttack] as unknown as TaskKind[];

export const TASK_KINDS: ReadonlyMap<string, TaskKind> = new Map(kinds.map((k) => [k.name, k]));
