// "Did you mean": the known name closest to a mistyped one, by Levenshtein edit distance. Used for
// unknown config fields (zod-error.ts), CLI flags, commands, attacks, presets and experiments.

/**
 * Edit distance between a and b: insertions, deletions, substitutions and swaps of two adjacent
 * letters (Damerau's optimal string alignment: "sigam" is one edit from "sigma", the commonest typo).
 */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `word` when it is close enough to be a typo: 1 edit for names of up to
 * 3 letters, 2 up to 6, 3 beyond, and never every letter (so "sigam" → "sigma", "budgte" →
 * "budget", but "budget" suggests nothing among a deployment's fields). Case is ignored; ties go to
 * the first candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = levenshtein(w, c.toLowerCase());
    const longest = Math.max(w.length, c.length);
    const allowed = longest <= 3 ? 1 : longest <= 6 ? 2 : 3;
    if (d < bestDistance && d <= allowed && d < Math.min(w.length, c.length)) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or nothing. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : ` (did you mean "${c}"?)`;
}
