// Experiment 2 (paper Fig. 4): Cohen et al.'s CERTIFY on the test images for each model and σ
// (evaluator endpoint), the certified accuracy as a function of the radius, and the ratio of each
// attack's distortion to the certified radius of the same image (the paper: at least 30×), in the report.
import { Ticker } from '../progress.js';
import { type ExperimentContext, deploymentFor, inputsFor, resultsFile } from './context.js';
import { type CertificationConfig, type CertificationRecord, certification, certificationKey } from './records/certification.js';

export async function runCertification(ctx: ExperimentContext, c: CertificationConfig): Promise<CertificationRecord[]> {
  const file = resultsFile(ctx, certification, c);
  const ticker = new Ticker('certify', c.settings.length * c.images);
  for (const s of c.settings) {
    const id = await deploymentFor(ctx, s.model, s.sigma, 1);
    const { shape, images } = await inputsFor(ctx, s.model, c.images);
    const size = shape[0] * shape[1] * shape[2];
    // A few images per request: each costs n forward passes on the server.
    for (let start = 0; start < c.images; start += 4) {
      const todo = Array.from({ length: Math.min(4, c.images - start) }, (_, k) => start + k).filter(
        (i) => !file.get(certificationKey({ ...c, ...s, image: i })),
      );
      for (let k = todo.length; k < Math.min(4, c.images - start); k++) ticker.tick('(resumed)', true);
      if (todo.length === 0) continue;
      const batch = new Float32Array(todo.length * size);
      todo.forEach((i, k) => batch.set(images[i].values, k * size));
      const res = await ctx.evaluator.certify(id, batch, [todo.length, ...shape], { n0: c.n0, n: c.n, alpha: c.alpha });
      res.results.forEach((r, k) => {
        const image = todo[k];
        const label = images[image].label!;
        file.add({
          key: certificationKey({ ...c, ...s, image }),
          model: s.model,
          sigma: s.sigma,
          image,
          label,
          certified: r.label,
          correct: r.label === label,
          pLower: r.pLower,
          radius: r.radius,
          n0: c.n0,
          n: c.n,
          alpha: c.alpha,
        });
        ticker.tick(`${s.model} σ=${s.sigma} #${image}: ${r.abstain ? 'abstain' : `class ${r.label}, R ${r.radius.toFixed(3)}`}`);
      });
    }
  }
  return certification.select!(file.all(), c).filter((r) => c.settings.some((s) => s.model === r.model && s.sigma === r.sigma) && r.image < c.images);
}
