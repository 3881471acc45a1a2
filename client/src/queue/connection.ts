// The Redis clients of a campaign (campaign.ts names what lives there): BullMQ's options for its
// queue and workers, and a plain ioredis connection for rs-arena's own keys. Only the modules that
// talk to Redis (submit, worker, control) import this: ioredis (about 0.2 CPU-s to load, 0.3 with
// BullMQ, which those modules import too) is not paid by a command without --queue.
import { Redis } from 'ioredis';

/** BullMQ's connection options for `url` (a blocking worker connection must retry forever). */
export const bullConnection = (url: string) => ({ url, maxRetriesPerRequest: null });

/** A plain ioredis connection for rs-arena's own keys. */
export function connect(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false });
  // Without a listener ioredis prints every failed reconnect; commands fail with the reason instead.
  redis.on('error', () => {});
  return redis;
}
