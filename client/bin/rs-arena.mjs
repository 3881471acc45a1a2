#!/usr/bin/env node
// The rs-arena command: in the repository, the TypeScript sources run through tsx, no build step.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

// RS_ARENA_COMPILED: a compiled tree of the repository (scripts/compiled-tree.mjs, what the tests run)
// to run instead of the TypeScript sources.
const compiled = process.env.RS_ARENA_COMPILED ? pathToFileURL(`${process.env.RS_ARENA_COMPILED}/client/src/cli/main.js`) : undefined;
const entry = compiled && existsSync(compiled) ? compiled : new URL('../src/cli/main.ts', import.meta.url);
if (!existsSync(entry)) {
  // The packed package ships the compiled library only: the command needs the repository's models,
  // sample images and server.
  process.stderr.write(
    'rs-arena: the command runs in a checkout of the rs-arena repository; installed as a package,\n' +
      "@rs-arena/client is a library: import { HttpOracle, CountingOracle, ... } from '@rs-arena/client'.\n",
  );
  process.exit(1);
}
// The compiled tree runs as it is: no loader, so no module passes through hooks.
if (entry !== compiled) {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  // Registered after tsx, so it runs first and tsx's resolver sees the condition too.
  register('./source-condition.mjs', import.meta.url);
}
const { main } = await import(entry.href);
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // A failure the command did not handle itself (the server went away, a timeout): one clear line, not a stack.
  const code = err && typeof err === 'object' && 'code' in err ? ` (${err.code})` : '';
  process.stderr.write(`rs-arena: ${err instanceof Error ? err.message : String(err)}${code}\n`);
  process.exitCode = 1;
}
