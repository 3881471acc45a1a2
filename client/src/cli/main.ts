// rs-arena: the command line. `attack` runs a campaign against a remote endpoint over HTTP.
import { pathToFileURL } from 'node:url';
import { attackCommand } from './attack.js';
import { auditCommand } from './audit.js';
import { experimentCommand, reportCommand } from './experiment.js';
import { unknownName, usageExit } from './args.js';
import { accuracyCommand } from './accuracy.js';

import { queueCommand } from './queue.js';
import { workerCommand } from './worker.js';

const COMMANDS = ['attack', 'audit', 'experiment', 'report', 'accuracy', 'worker', 'queue'];

const USAGE = `rs-arena <command> [options]

Commands:
  attack      attack a deployment of an rs-arena server over HTTP (rs-arena attack --help)
  audit       a fixed battery against one endpoint: a report card and the budget that keeps attackers out
  experiment  run the paper's evaluation: a preset of experiments, data, figures and a report
  report      rebuild the figures and report.html of a results folder
  accuracy    clean and smoothed accuracy over σ of a model or deployment, and the σ a cost allows
  worker      run the tasks of campaigns submitted with --queue (rs-arena worker --help)
  queue       status, pause, resume or cancel a campaign on a queue (rs-arena queue --help)
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'attack':
      return attackCommand(rest);
    case 'audit':
      return auditCommand(rest);
    case 'experiment':
      return experimentCommand(rest);
    case 'report':
      return reportCommand(rest);
    case 'accuracy':
      return accuracyCommand(rest);
    case 'worker':
      return workerCommand(rest);
    case 'queue':
      return queueCommand(rest);
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return 0;
    case undefined:
      return usageExit('rs-arena', 'a command is required: ' + COMMANDS.join(', '));
    default:
      return usageExit('rs-arena', unknownName('command', command, COMMANDS).message);
  }
}

// Run directly (node --import tsx client/src/cli/main.ts); the bin script calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`rs-arena: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
