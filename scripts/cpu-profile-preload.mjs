// Preloaded into every Node process and thread of a profiled test run (scripts/profile-tests.mjs
// puts it in NODE_OPTIONS with --import): a sampling CPU profile from the first module to the exit,
// written to $RS_ARENA_CPU_PROFILE_DIR. Not --cpu-prof: Node refuses it in NODE_OPTIONS, and the
// run's processes (servers, CLI commands, workers, model threads) are started by the tests, not by
// this script. A process ended by a signal without an exit handler writes nothing; the summary
// counts the profiles it got.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

const dir = process.env.RS_ARENA_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // 1 ms: fine enough for whole-run totals, light enough not to move them.
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // A session on its own thread answers synchronously, so the profile is written before the exit.
  process.once('exit', () =>
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}-${threadId}.cpuprofile`), JSON.stringify(result.profile));
    }),
  );
}
