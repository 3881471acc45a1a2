// The protocol table: every protocol the client speaks, registered once. target.ts looks a
// protocol up here by its --protocol name; nothing else branches on protocols.
import { json } from './json.js';
import type { Protocol } from './protocol.js';
import { tfserving } from './tfserving.js';
import { torchserve } from './torchserve.js';
import { v1 } from './v1.js';
import { v2 } from './v2.js';

export const PROTOCOLS = { v1, v2, tfserving, torchserve, json } satisfies Record<string, Protocol>;
export type ProtocolName = keyof typeof PROTOCOLS;
export const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as ProtocolName[];
export const isProtocolName = (name: string): name is ProtocolName => Object.hasOwn(PROTOCOLS, name);
export * from './protocol.js';
