// The colour registry: one colour per model/setting, attack and n, bound to the series *name* so a
// setting has the same colour in every figure of every report (colours that followed series order
// swapped between figures). Figures pass these to Vega-Lite as the colour scale's domain → range.

/** Tableau 10 (Vega's default categorical scheme); darker companions for the ImageNet models below. */
const T = {
  blue: '#4c78a8',
  orange: '#f58518',
  red: '#e45756',
  teal: '#72b7b2',
  green: '#54a24b',
  yellow: '#eeca3b',
  purple: '#b279a2',
  pink: '#ff9da6',
  brown: '#9d755d',
  grey: '#bab0ac',
};

/**
 * Series name → colour. Setting names are `${model} (no RS)` or `${model} σ=${σ}`; a series whose
 * name extends a registered one (e.g. "fmnist-cnn σ=0.05 Pa=0.8") takes its colour (see `colorOf`).
 */
const SERIES_COLORS: Readonly<Record<string, string>> = {
  // Fashion-MNIST models and RS settings: distinct hues for the settings the presets show together.
  'fmnist-cnn (no RS)': T.blue,
  'fmnist-cnn σ=0.05': T.orange,
  'fmnist-cnn σ=0.15': T.red,
  'fmnist-cnn σ=0.25': T.green,
  'fmnist-cnn σ=0.5': T.yellow,
  'fmnist-cnn-randtrain (no RS)': T.pink,
  'fmnist-cnn-randtrain σ=0.05': T.brown,
  'fmnist-cnn-randtrain σ=0.15': T.teal,
  'fmnist-cnn-randtrain σ=0.25': T.purple,
  'fmnist-cnn-randtrain σ=0.5': '#8c6d31',
  'fmnist-cnn-advtrain (no RS)': '#79706e',
  'fmnist-cnn-advtrain σ=0.05': '#d4a6c8',
  'fmnist-cnn-advtrain σ=0.25': '#7b4173',
  // The paper-protocol preset's σ by accuracy cost (3 and 12 points below clean, presets.ts
  // SIGMA_BY_COST): shown together in Figs. 4 and 5, beside the three (no RS) series.
  'fmnist-cnn σ=0.0333': T.orange,
  'fmnist-cnn σ=0.0685': T.red,
  'fmnist-cnn-randtrain σ=0.3575': T.teal,
  'fmnist-cnn-randtrain σ=0.3849': T.purple,
  'fmnist-cnn-advtrain σ=0.1935': T.green,
  'fmnist-cnn-advtrain σ=0.2325': '#7b4173',
  // ImageNet models.
  'imagenet-mobilenetv2-int8 (no RS)': '#393b79',
  'imagenet-mobilenetv2-int8 σ=0.05': '#6b6ecf',
  'imagenet-mobilenetv2-int8 σ=0.25': '#9c9ede',
  'imagenet-squeezenet1.1 (no RS)': '#843c39',
  'imagenet-squeezenet1.1 σ=0.05': '#d6616b',
  'imagenet-squeezenet1.1 σ=0.25': '#e7969c',
  'imagenet-resnet50 (no RS)': '#637939',
  'imagenet-resnet50 σ=0.05': '#8ca252',
  'imagenet-resnet50 σ=0.25': '#b5cf6b',
  // Attacks.
  hsja: T.blue,
  surfree: T.orange,
  rays: T.green,
  geoda: T.purple,
  // Noise-aware attacks: their plain attack's hue, darker (psj: HSJA's).
  psj: '#1f4e79',
  'surfree-seq': '#b35806',
  'rays-seq': '#2d6a27',
  'geoda-seq': '#6a3d7a',
  // Number of noise samples n (Fig. 1 and 3): darker for larger n.
  'n = 1': '#9ecae1',
  'n = 10': '#4292c6',
  'n = 50': '#2171b5',
  'n = 100': '#08519c',
  'n = 1000': '#08306b',
  // The defense menu's settings (presets.ts menuDefenses): distinct hues, the detector's red.
  undefended: T.blue,
  rs: T.orange,
  rnd: T.brown,
  gated: T.green,
  deterministic: T.purple,
  detector: T.red,
  'detector+rs': T.teal,
  // Reference lines.
  'base model boundary': '#777777',
};

/** For names nobody registered: a stable pick by hash of the name (never by position in a figure). */
const FALLBACK = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
  '#393b79',
  '#637939',
  '#8c6d31',
  '#843c39',
  '#7b4173',
];

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The colour of a series: its registered name, else the longest registered name it extends by a word, else a hash. */
export function colorOf(name: string): string {
  if (SERIES_COLORS[name]) return SERIES_COLORS[name];
  let best = '';
  for (const key of Object.keys(SERIES_COLORS)) if (key.length > best.length && name.startsWith(`${key} `)) best = key;
  return best ? SERIES_COLORS[best] : FALLBACK[fnv1a(name) % FALLBACK.length];
}

/** Class colours for label maps (Fig. 2): Tableau 20 by class index; black for "no answer" (< 0). */
const CLASS_PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#a0cbe8',
  '#ffbe7d',
  '#ff9d9a',
  '#86bcb6',
  '#8cd17d',
  '#f1ce63',
  '#d4a6c8',
  '#fabfd2',
  '#d7b5a6',
  '#79706e',
];

export function classColor(label: number): string {
  return label < 0 ? '#000000' : CLASS_PALETTE[label % CLASS_PALETTE.length];
}
