#!/usr/bin/env node
// The rs-arena command: TypeScript sources run through tsx, no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // A failure the command did not handle itself (the server went away, a timeout): one clear line, not a stack.
  const code = err && typeof err === 'object' && 'code' in err ? ` (${err.code})` : '';
  process.stderr.write(`rs-arena: ${err instanceof Error ? err.message : String(err)}${code}\n`);
  process.exitCode = 1;
}
