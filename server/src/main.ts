// env → config → buildApp → listen; graceful shutdown on SIGTERM/SIGINT: stop accepting, finish the
// requests in flight, close the models and the state store's connections, exit. `npm start` runs
// this file with `exec` so the signal npm forwards reaches this process, not only npm's shell.
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`rs-arena server: ${(err as Error).message}`);
    process.exit(2);
  }
  let app;
  try {
    app = await buildApp(config, {
      onGeneratedKeys: (keys) => {
        // The only place a secret is ever printed: to the operator's terminal, at start.
        console.log('No API keys configured: generated these (they change at every start; set RS_ARENA_ADMIN_KEY etc. to fix them):');
        for (const k of keys) console.log(`  ${k.role.padEnd(9)} ${k.secret}`);
      },
    });
  } catch (err) {
    console.error(`rs-arena server: ${(err as Error).message}`);
    process.exit(1);
  }
  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // A request that never ends must not keep a half-closed server alive.
    setTimeout(() => {
      app.log.error('shutdown took over 10 s: exiting anyway');
      process.exit(1);
    }, 10_000).unref();
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void close('SIGTERM'));
  process.on('SIGINT', () => void close('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
  const ids = app.ctx.deployments.list().map((d) => d.id).join(', ');
  app.log.info(`serving deployments: ${ids}`);
}

await main();
