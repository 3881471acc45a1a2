// rs-arena: the command line. `attack` runs a campaign against a remote endpoint over HTTP.
import { pathToFileURL } from 'node:url';
import { unknownName, usageExit } from './args.js';

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
    // Each command's module is loaded when it runs: a process loads only the code of its own command.
    case 'attack':
      return (await import('./attack.js')).attackCommand(rest);
    case 'audit':
      return (await import('./audit.js')).auditCommand(rest);
    case 'experiment':
      return (await import('./experiment.js')).experimentCommand(rest);
    case 'report':
      return (await import('./experiment.js')).reportCommand(rest);
    case 'accuracy':
      return (await import('./accuracy.js')).accuracyCommand(rest);
    case 'worker':
      return (await import('./worker.js')).workerCommand(rest);
    case 'queue':
      return (await import('./queue.js')).queueCommand(rest);
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
