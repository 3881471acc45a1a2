// How a test's own process runs the shipped models (the in-process oracle, the stand-in model
// servers, the accuracy checks): idle onnxruntime threads sleep instead of spinning, as the server's
// measured tuning has it (server/config/tuning.json). onnxruntime's default spins them between runs,
// on the core that the test's other process (the CLI attacking the stand-in) or the test file beside
// it needs: models.test.ts took 62 s of CPU for 32 s of wall time with it, 47 s for 27 s without.
// The answers do not depend on it.
import type { ModelOptions } from '../../server/src/model.js';

export const TEST_MODEL_OPTIONS: ModelOptions = { spinning: false };
