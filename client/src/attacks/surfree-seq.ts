// SurFree deciding through the sequential test: its circle and angle searches keep a point only
// when the test accepted it at level P_a.
import { decidedByTest } from './sequential-attack.js';
import { surfree } from './surfree.js';

export const surfreeSeq = decidedByTest(
  'surfree-seq',
  'SurFree deciding through the sequential test: returns a point confirmed adversarial at level Pa on fresh answers',
  surfree,
);
