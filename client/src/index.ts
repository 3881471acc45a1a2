// @rs-arena/client as a library: what another project needs to attack an rs-arena endpoint (or any
// classifier it wraps as an Oracle) with the arena's attacks and query accounting, and the schema of
// the records the CLI writes. The CLI, experiments and report stay in the repository (they need its
// models, data and server).
export { BudgetExhausted, CountingOracle, QueryRefused, type Oracle, type PhaseCount, type QueryCounts } from './oracle.js';
export { AccountPool, Adaptive, AdaptiveOutcome, BlindedOracle, REFUSED, adaptiveCounting, adaptiveOutcome } from './adaptive.js';
export { HttpError, HttpOracle, type HttpOracleOptions } from './oracle-http.js';
export { Endpoint, type EndpointOptions } from './endpoint.js';
export { PROTOCOLS, PROTOCOL_NAMES, type Protocol, type ProtocolName, type Session } from './protocols/index.js';
export { type Encoding, type EncodingName, parseEncoding } from './encoding.js';
export { ResponseError } from './response.js';
export * from './attacks/index.js';
export type { Attack, AttackOptions, AttackResult, StopReason } from './attacks/attack.js';
export { AttackRecord } from './record.js';
