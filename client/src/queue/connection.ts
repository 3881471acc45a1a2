// The Redis clients of a campaign (campaign.ts names what lives there): BullMQ's options for its
// queue and workers, and a plain ioredis connection for rs-arena's own keys. Only the modules that
// talk to Redis (submit, worker, control) import this: ioredis and BullMQ cost about half a
// CPU-second to load, which a command without --queue does not pay.
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
