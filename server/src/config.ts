// Server configuration: a JSON file validated by zod (or the embedded default), then environment
// overrides. Keys in a config file are stored as sha256 digests, never in clear.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Budgets, DeploymentSpec, Role } from '@rs-arena/shared/api';
import { formatZodError, parseOrThrow } from '@rs-arena/shared/zod-error';

const KeyConfig = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  role: Role,
  /** sha256 (hex) of the secret. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256 of the key'),
  budgets: Budgets.default({}),
});

/** A key given in clear by the environment (RS_ARENA_*_KEY). */
export interface EnvKey {
  id: string;
  role: Role;
  secret: string;
  budgets: Record<string, number | null>;
}

export const ServerConfig = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** models/ folder with manifest.json (default: the repository's). */
  modelsDir: z.string().optional(),
  /** onnxruntime intra-op threads for every model, over the tuned ones (default: server/config/tuning.json, else onnxruntime's). */
  threads: z.number().int().min(1).max(256).optional(),
  /**
   * Models share the machine's cores (core-share.ts): a run whose tuned threads do not fit beside
   * other models' runs takes one thread. Off: every run takes its tuned threads. Env: RS_ARENA_SHARE_CORES=0|1.
   */
  shareCores: z.boolean().default(true),
  /** Per-model session and batch settings (default: the committed server/config/tuning.json). Env: RS_ARENA_TUNING. */
  tuningFile: z.string().optional(),
  /** Largest request body. */
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  /** Cap on the evaluator's samples per input in /votes, and on CERTIFY's n. */
  maxVotesN: z.number().int().min(1).default(1_000_000),
  maxCertifyN: z.number().int().min(1).default(10_000_000),
  /**
   * Most base-model forward passes one request may cost, per role. A client's predict batch is
   * capped up-front through the deployment's advertised maxBatch.
   */
  maxForwardPasses: z
    .strictObject({
      client: z.number().int().min(1).default(10_000_000),
      evaluator: z.number().int().min(1).default(200_000_000),
      admin: z.number().int().min(1).default(200_000_000),
    })
    .prefault({}),
  /** Time to receive a whole request, headers and body (slow or stalled uploads get 408). */
  requestTimeoutMs: z.number().int().min(1000).default(30_000),
  /** A socket idle this long is closed (also while a request computes: keep it above the longest CERTIFY). */
  connectionTimeoutMs: z.number().int().min(1000).default(600_000),
  /** An idle keep-alive connection is closed after this (Fastify's default; above the client pool's 30 s). */
  keepAliveTimeoutMs: z.number().int().min(100).default(72_000),
  /** Requests served on one connection before the server asks the client to reconnect (0: no limit). */
  maxRequestsPerSocket: z.number().int().min(0).default(100_000),
  /** Open connections accepted at once; more are refused at accept. */
  maxConnections: z.number().int().min(1).default(1024),
  /**
   * sha256 (hex) of the key that unlocks per-deployment metrics of undisclosed deployments on
   * GET /metrics (also unlocked by an admin key). Env: RS_ARENA_METRICS_KEY (in clear).
   */
  metricsKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256 of the key')
    .optional(),
  deployments: z.array(DeploymentSpec).default([]),
  keys: z.array(KeyConfig).default([]),
  /** redis://… : usage, budgets, keys and runtime deployments in Redis, shared by every replica. Absent: this process's memory. */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
    .optional(),
  /** Answers kept so a retried request (same Idempotency-Key) gets the same answer, charged once. */
  idempotency: z
    .strictObject({
      /** How long an answer is kept (Redis TTL; in memory too). */
      ttlSeconds: z
        .number()
        .int()
        .min(1)
        .default(24 * 3600),
      /** In memory: at most this many answers and bytes (least recently used dropped first). */
      maxEntries: z.number().int().min(1).default(10_000),
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * 1024 * 1024),
      /** How long a request in progress holds its id (a retry meanwhile gets 409). */
      pendingSeconds: z.number().int().min(1).default(600),
    })
    .prefault({}),
});
export type ServerConfig = z.infer<typeof ServerConfig> & {
  envKeys?: EnvKey[];
  /** The embedded default config: its deployments of models absent from the models folder are skipped, not fatal. */
  embeddedDefault?: boolean;
};

export const DEFAULT_CONFIG_FILE = join(dirname(fileURLToPath(import.meta.url)), '../config/default.json');

export function parseConfig(raw: unknown, source: string): ServerConfig {
  const result = ServerConfig.safeParse(raw);
  if (!result.success) throw new Error(`invalid config ${source}: ${formatZodError(result.error, { schema: ServerConfig })}`);
  const ids = result.data.deployments.map((d) => d.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new Error(`invalid config ${source}: deployment id "${dup}" appears twice`);
  return result.data;
}

/** The config file named by RS_ARENA_CONFIG (or the embedded default), with env overrides applied. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const file = env.RS_ARENA_CONFIG || DEFAULT_CONFIG_FILE;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read config ${file}: ${(err as Error).message}`);
  }
  const config: ServerConfig = parseConfig(raw, file);
  config.embeddedDefault = file === DEFAULT_CONFIG_FILE;
  if (env.PORT !== undefined) config.port = parseIntEnv(env.PORT, 'PORT', 0, 65535);
  if (env.HOST) config.host = env.HOST;
  if (env.LOG_LEVEL) config.logLevel = parseOrThrow(ServerConfig.shape.logLevel, env.LOG_LEVEL, 'LOG_LEVEL');
  if (env.RS_ARENA_MODELS_DIR) config.modelsDir = env.RS_ARENA_MODELS_DIR;
  if (env.REDIS_URL) {
    if (!ServerConfig.shape.redisUrl.safeParse(env.REDIS_URL).success) throw new Error('REDIS_URL must be a redis:// or rediss:// URL');
    config.redisUrl = env.REDIS_URL;
  }
  if (env.RS_ARENA_TUNING) config.tuningFile = env.RS_ARENA_TUNING;
  if (env.RS_ARENA_THREADS) config.threads = parseIntEnv(env.RS_ARENA_THREADS, 'RS_ARENA_THREADS', 1, 256);
  if (env.RS_ARENA_SHARE_CORES !== undefined) config.shareCores = parseIntEnv(env.RS_ARENA_SHARE_CORES, 'RS_ARENA_SHARE_CORES', 0, 1) === 1;
  const budget = env.RS_ARENA_CLIENT_BUDGET ? parseIntEnv(env.RS_ARENA_CLIENT_BUDGET, 'RS_ARENA_CLIENT_BUDGET', 0) : null;
  const envKeys: EnvKey[] = [];
  for (const [role, name] of [
    ['admin', 'RS_ARENA_ADMIN_KEY'],
    ['evaluator', 'RS_ARENA_EVALUATOR_KEY'],
    ['client', 'RS_ARENA_CLIENT_KEY'],
  ] as const) {
    const secret = env[name];
    if (!secret) continue;
    if (secret.length < 16) throw new Error(`${name} must be at least 16 characters`);
    envKeys.push({ id: `env-${role}`, role, secret, budgets: role === 'client' ? { '*': budget } : {} });
  }
  config.envKeys = envKeys;
  if (env.RS_ARENA_METRICS_KEY) {
    if (env.RS_ARENA_METRICS_KEY.length < 16) throw new Error('RS_ARENA_METRICS_KEY must be at least 16 characters');
    config.metricsKey = createHash('sha256').update(env.RS_ARENA_METRICS_KEY, 'utf8').digest('hex');
  }
  return config;
}

function parseIntEnv(value: string, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got "${value}"`);
  return n;
}
