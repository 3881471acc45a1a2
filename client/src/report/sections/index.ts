// The report's sections, in the order report.html shows them, one per experiment (keyed by its
// spec). Adding an experiment to the report = its section file + one line here.
import type { Section } from '../section.js';
import { accuracySection } from './accuracy.js';
import { binarySearchSection } from './binary-search.js';
import { certificationSection } from './certification.js';
import { confidenceCostSection } from './confidence-cost.js';
import { defenseMenuSection } from './defense-menu.js';
import { directionSection } from './direction.js';
import { distortionSection } from './distortion.js';
import { sliceSection } from './slice.js';

export const SECTIONS: Section[] = [
  distortionSection,
  confidenceCostSection,
  defenseMenuSection,
  accuracySection,
  certificationSection,
  directionSection,
  sliceSection,
  binarySearchSection,
];
