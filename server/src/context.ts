// What every route plugin receives: the app's own registry, keys, ledger, metrics and docs.
import type { Catalog } from '@rs-arena/shared/catalog';
import type { ServerConfig } from './config.js';
import type { DeploymentRegistry } from './deployments.js';
import type { KeyStore } from './auth.js';
import type { Ledger } from './budget.js';
import type { Metrics } from './metrics.js';
import type { OpenApi } from './openapi.js';
import type { StateStore } from './state/store.js';

export interface AppContext {
  config: ServerConfig;
  /** The models that can be deployed: the manifest's and the model folders' (models added at run time join it). */
  catalog: Catalog;
  deployments: DeploymentRegistry;
  keys: KeyStore;
  ledger: Ledger;
  /** Where the ledger, idempotent answers, runtime keys and deployments live (memory or Redis). */
  state: StateStore;
  metrics: Metrics;
  openapi: OpenApi;
  /** Set once the configured deployments have loaded. */
  ready: boolean;
}

export interface RouteOptions {
  ctx: AppContext;
}
