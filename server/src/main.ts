// env → config → buildApp → listen; graceful shutdown on SIGTERM/SIGINT.
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
  const close = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void close('SIGTERM'));
  process.once('SIGINT', () => void close('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
  const ids = app.ctx.deployments.list().map((d) => d.id).join(', ');
  app.log.info(`serving deployments: ${ids}`);
}

await main();
