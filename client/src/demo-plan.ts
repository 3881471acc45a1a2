// What `npm run demo` runs. The default is quick (about 70 s on an idle 2-core machine): two
// images and four attacks, three classic decision-based ones and one that knows the noise. `--full`
// runs every registered attack on six images (about 8 minutes). Time goes to the RS deployments:
// every query there is n = 100 forward passes, so it grows with images × attacks × budget.
import { ATTACK_NAMES, type AttackName } from './attacks/index.js';
import { UsageError, parseFlags, unknownName } from './cli/args.js';

/** HSJA, SurFree and RayS, and PSJ (HSJA made noise-aware: its adversarials hold at the confidence level P_a). */
const QUICK_ATTACKS: readonly AttackName[] = ['hsja', 'surfree', 'rays', 'psj'];
const QUICK_IMAGES = 2;
const FULL_IMAGES = 6;

/** The undefended CNN, the CNN under RS (σ = 0.25, n = 100) and the noise-trained CNN under RS. */
export const DEMO_DEPLOYMENTS = ['fmnist-cnn', 'fmnist-cnn-rs025', 'fmnist-randtrain-rs025'];

export const DEMO_HELP = `npm run demo [-- options]

  Starts the server on its default config, attacks the first shipped test images over HTTP against
  the undefended CNN and two RS deployments, prints one table. Quick by default (about 70 s
  on an idle 2-core machine): ${QUICK_IMAGES} images, ${QUICK_ATTACKS.join(', ')}.

  --full         every attack (${ATTACK_NAMES.join(', ')}) on ${FULL_IMAGES} images (about 8 minutes)
  --images N     images per deployment (default ${QUICK_IMAGES}; ${FULL_IMAGES} with --full)
  --attacks A,B  the attacks to run (default ${QUICK_ATTACKS.join(',')}; all with --full)
  --budget N     queries per attack and image (default 1000)
  --out FILE     JSONL results (default out/demo/results.jsonl, replaced at each run)
`;

export interface DemoPlan {
  help: boolean;
  images: number;
  budget: number;
  attacks: AttackName[];
  out: string;
}

/** The demo's options from its command line (a UsageError names a bad one). */
export function demoPlan(argv: string[]): DemoPlan {
  const { values } = parseFlags(argv, {
    full: { type: 'boolean', default: false },
    images: { type: 'string' },
    attacks: { type: 'string' },
    budget: { type: 'string', default: '1000' },
    out: { type: 'string', default: 'out/demo/results.jsonl' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const positive = (flag: string, text: string) => {
    if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`--${flag} ${text}: a positive integer`);
    return Number(text);
  };
  const attacks = values.attacks
    ? values.attacks.split(',').map((a) => {
        if (!(ATTACK_NAMES as string[]).includes(a)) throw unknownName('attack', a, ATTACK_NAMES);
        return a as AttackName;
      })
    : values.full
      ? [...ATTACK_NAMES]
      : QUICK_ATTACKS.filter((a) => ATTACK_NAMES.includes(a));
  return {
    help: values.help,
    images: positive('images', values.images ?? String(values.full ? FULL_IMAGES : QUICK_IMAGES)),
    budget: positive('budget', values.budget),
    attacks,
    out: values.out,
  };
}
