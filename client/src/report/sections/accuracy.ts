// Report section of the accuracy experiment: the σ search by accuracy cost (the σ found per model and
// cost, with its bracket and every step measured) and accuracy against σ; the attacked settings'
// accuracy is Fig. 5's x-axis (sections/distortion.ts).
import { type AccuracyConfig, type AccuracyRecord, accuracy, sigmaSearch, smoothedAccuracy } from '../../experiments/records/accuracy.js';
import { distortion } from '../../experiments/records/distortion.js';
import { lineChart, type Series } from '../charts.js';
import { type Figure, writeCsv, writeFigure } from '../figures.js';
import { defineSection } from '../section.js';
import { esc, table } from '../table.js';

/** The search's outcome per model and accuracy cost, replayed from the records. */
export function sigmaSearches(records: AccuracyRecord[], c: AccuracyConfig) {
  const byKey = new Map(records.map((r) => [r.key, r]));
  return c.models.flatMap((model) => c.drops.map((drop) => sigmaSearch(model, drop, c, (s) => smoothedAccuracy(byKey, model, s, c))));
}

export const accuracySection = defineSection({
  experiment: accuracy,
  title: 'Accuracy of the smoothed classifier, and σ chosen by accuracy cost',
  async build(ctx, c, records) {
    const searches = sigmaSearches(records, c);
    const rows = searches.map((s) => ({
      model: s.model,
      drop: s.drop,
      clean: s.clean,
      sigmaFound: s.sigma,
      bracketLo: s.bracket[0],
      bracketHi: s.bracket[1],
      steps: s.steps.length,
      images: c.images,
    }));
    writeCsv(ctx.dir, 'sigma-search.csv', rows);
    const byKey = new Map(records.map((r) => [r.key, r]));
    const figures: Figure[] = [];
    const series: Series[] = [];
    // One line per model, each its own colour (the registry's are per setting, and alike across models).
    const PALETTE = ['#4477aa', '#ee6677', '#228833', '#ccbb44', '#66ccee', '#aa3377'];
    for (const model of [...new Set([...c.models, ...c.settings.map((s) => s.model)])]) {
      const sigmas = [...new Set(records.filter((r) => r.model === model).map((r) => r.sigma))].sort((a, b) => a - b);
      const points = sigmas.map((s) => [s, smoothedAccuracy(byKey, model, s, c)] as const).filter((p): p is [number, number] => p[1] !== null);
      if (points.length) series.push({ name: model, points, color: PALETTE[series.length % PALETTE.length] });
    }
    if (series.length) {
      figures.push(
        await writeFigure(
          ctx.dir,
          'accuracy-vs-sigma',
          'Accuracy of g_σ against σ',
          `Share of the first ${c.images} test images whose majority of ${c.samples.toLocaleString('en')} fresh noisy votes is the true class, at each σ the search or the attacked settings measured (σ = 0: the clean model).`,
          await lineChart({
            title: `Accuracy of the smoothed classifier (${c.images} images, ${c.samples} votes each)`,
            xLabel: 'σ',
            yLabel: 'accuracy',
            series,
            yRange: [0, 1],
            width: 760,
          }),
        ),
      );
    }
    // The attacked settings beside the σ found: a preset whose σ is not what its search finds says so.
    const attacked = ctx.config(distortion)?.settings.filter((s) => s.sigma > 0) ?? [];
    const check = searches
      .filter((s) => s.sigma !== null)
      .map((s) => {
        const used = attacked.filter((a) => a.model === s.model).map((a) => a.sigma);
        const near = used.find((u) => u >= s.bracket[0] - 1e-9 && u <= s.bracket[1] + 1e-9);
        return `${s.model}, cost ${(100 * s.drop).toFixed(0)} points: σ = ${s.sigma} (bracket [${s.bracket.join(', ')}]); ${near !== undefined ? `attacked at σ = ${near}` : used.length ? `NOT attacked at it (attacked σ: ${used.join(', ')})` : 'not attacked'}`;
      });
    const docs = {
      drop: 'accuracy cost searched: clean accuracy minus the accuracy of g_σ',
      clean: 'accuracy of the clean model on these images',
      sigmaFound: 'σ found: the midpoint of the last bracket',
      bracketLo: 'largest σ measured with a smaller cost',
      bracketHi: 'smallest σ measured with a cost at least the drop',
      steps: 'bisection steps measured',
      images: 'test images',
    };
    return {
      figures,
      html: `<p>The paper chose σ by accuracy cost (σ = 0.05: −3 points, σ = 0.15: −12). Here σ is searched by bisection per model on the first ${c.images} test images.</p><ul>${check.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>${table(rows, docs)}`,
    };
  },
});
