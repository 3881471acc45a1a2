// env → config → buildApp → listen; graceful shutdown on SIGTERM/SIGINT: stop accepting, finish the
// requests in flight, close the models and the state store's connections, exit. `npm start` runs
// this file with `exec` so the signal npm forwards reaches this process, not only npm's shell.
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

const HELP = `npm start [-- --help]   (node server/src/main.ts)

Serves the deployments of a config file over HTTP. Everything is set by the environment:

  RS_ARENA_CONFIG        a JSON config file (default server/config/default.json), validated at
                         start: an unknown or invalid field stops the server, naming it
  PORT, HOST             where to listen (default 127.0.0.1:8080)
  RS_ARENA_MODELS_DIR    the model folder (default models/): manifest.json and/or one folder per
                         model with its .onnx file (docs/serve-your-own-model.md)
  RS_ARENA_ADMIN_KEY, RS_ARENA_EVALUATOR_KEY, RS_ARENA_CLIENT_KEY
                         keys with these values (16+ characters); none set: an admin and a client
                         key are generated and printed once
  RS_ARENA_CLIENT_BUDGET the client key's query budget per deployment (default unlimited)
  RS_ARENA_METRICS_KEY   unlocks per-deployment metrics of undisclosed deployments
  REDIS_URL              keep usage, keys and runtime deployments in Redis (shared by replicas)
  LOG_LEVEL, RS_ARENA_THREADS, RS_ARENA_SHARE_CORES, RS_ARENA_TUNING, RS_ARENA_IMAGENET_DIR

See README.md ("The server") and docs/operator.md.
`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (args.length) {
    // The server takes no arguments: a flag meant for it must not be ignored while it starts.
    console.error(`rs-arena server: unknown argument "${args[0]}"; the server is configured by environment variables (npm start -- --help)`);
    process.exit(2);
  }
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
  const ids = app.ctx.deployments
    .list()
    .map((d) => d.id)
    .join(', ');
  app.log.info(`serving deployments: ${ids}`);
}

await main();
