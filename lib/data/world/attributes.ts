/**
 * Semantic attributes of a synthetic person and their correlated prior.
 *
 * {@link WorldAttributes} is the superset every dataset schema is computed
 * from (see `schemas.ts`): a schema never draws anything itself, so the same
 * identity gives consistent labels in every layout. The prior is plain data
 * ({@link AttributePriors}) so a preset can skew it (e.g. to make attribute
 * vectors repeat more often) without code changes.
 *
 * @module
 */
import type { Rng } from "../../runtime/random.ts";
import type { ColorName } from "./colors.ts";

/** Torso patterns; PETA labels three of them (logo, thin stripes, plaid). */
export const PATTERNS = ["plain", "hstripes", "vstripes", "logo", "check"] as const;
/** One of {@link PATTERNS}. */
export type Pattern = typeof PATTERNS[number];

/** Age classes in Market-1501's order (young/child, teenager, adult, old). */
export type AgeClass = 0 | 1 | 2 | 3;

/** What a person *is*, in words a dataset annotator would use. */
export interface WorldAttributes {
  female: boolean;
  age: AgeClass;
  hairLong: boolean;
  hairColor: ColorName;
  hat: boolean;
  hatColor: ColorName;
  glasses: boolean;
  longSleeves: boolean;
  /** Lower garment reaches the ankles (trousers, long skirt/dress). */
  lowerLong: boolean;
  /** Skirt or dress instead of two trouser legs. */
  skirt: boolean;
  backpack: boolean;
  handbag: boolean;
  /** Shoulder bag / satchel / messenger bag (Market's and Duke's "bag"). */
  shoulderBag: boolean;
  boots: boolean;
  upperColor: ColorName;
  lowerColor: ColorName;
  shoeColor: ColorName;
  upperPattern: Pattern;
}

/** A probability that depends on gender. */
export interface ByGender {
  female: number;
  male: number;
}

/** Relative weights over colour names (need not sum to 1; absent names weigh 0). */
export type ColorWeights = Partial<Record<ColorName, number>>;

/**
 * The attribute prior. Correlations are expressed as conditionals on gender
 * (as the papers' synthetic plans describe, e.g. P(long hair | female) = 0.75).
 */
export interface AttributePriors {
  female: number;
  hairLong: ByGender;
  /** Weights of the four age classes. */
  age: [number, number, number, number];
  hat: number;
  glasses: number;
  longSleeves: number;
  skirt: ByGender;
  lowerLong: ByGender;
  backpack: number;
  handbag: ByGender;
  shoulderBag: number;
  boots: number;
  upperColor: ColorWeights;
  lowerColor: ColorWeights;
  shoeColor: ColorWeights;
  hairColor: ColorWeights;
  hatColor: ColorWeights;
  upperPattern: Partial<Record<Pattern, number>>;
}

/**
 * The default prior: the attribute frequencies the papers' synthetic plans suggest (the
 * 'Synthetic world(s)' / 'Data' sections of lib/papers/{aaipr,tjaidl,paenet,sal}/README.md agree
 * to within a few points). Its colours are the
 * intersection of Market-1501's and DukeMTMC-reID's colour lists, so the same
 * person is labelled one-hot in both schemas (transfer presets share it).
 */
export const DEFAULT_PRIORS: AttributePriors = {
  female: 0.45,
  hairLong: { female: 0.75, male: 0.08 },
  age: [0.05, 0.15, 0.7, 0.1],
  hat: 0.15,
  glasses: 0.25,
  longSleeves: 0.5,
  skirt: { female: 0.35, male: 0.0 },
  lowerLong: { female: 0.5, male: 0.8 },
  backpack: 0.3,
  handbag: { female: 0.3, male: 0.1 },
  shoulderBag: 0.2,
  boots: 0.1,
  upperColor: {
    black: 0.27,
    white: 0.2,
    gray: 0.13,
    red: 0.12,
    blue: 0.13,
    green: 0.08,
    purple: 0.07,
  },
  lowerColor: { black: 0.37, blue: 0.28, gray: 0.15, white: 0.07, brown: 0.09, green: 0.04 },
  shoeColor: { black: 0.45, white: 0.25, brown: 0.15, gray: 0.15 },
  hairColor: { black: 0.6, brown: 0.3, yellow: 0.07, gray: 0.03 },
  hatColor: { black: 0.3, white: 0.2, red: 0.15, blue: 0.2, gray: 0.15 },
  upperPattern: { plain: 0.4, hstripes: 0.2, vstripes: 0.15, logo: 0.15, check: 0.1 },
};

/** Draws a name from weights. */
export function weightedName<T extends string>(rng: Rng, weights: Partial<Record<T, number>>): T {
  const names = Object.keys(weights) as T[];
  const values = names.map((n) => weights[n] ?? 0);
  return names[rng.weighted(values)];
}

/** Draws one person's attributes from the prior. */
export function sampleAttributes(rng: Rng, p: AttributePriors = DEFAULT_PRIORS): WorldAttributes {
  const female = rng.bernoulli(p.female);
  const g = (x: ByGender) => (female ? x.female : x.male);
  const age = rng.weighted(p.age) as AgeClass;
  const skirt = rng.bernoulli(g(p.skirt));
  let hairColor = weightedName(rng, p.hairColor);
  // Old people are drawn gray-haired more often; a soft correlation real sets show.
  if (age === 3 && rng.bernoulli(0.6)) hairColor = "gray";
  return {
    female,
    age,
    hairLong: rng.bernoulli(g(p.hairLong)),
    hairColor,
    hat: rng.bernoulli(p.hat),
    hatColor: weightedName(rng, p.hatColor),
    glasses: rng.bernoulli(p.glasses),
    longSleeves: rng.bernoulli(p.longSleeves),
    lowerLong: rng.bernoulli(g(p.lowerLong)),
    skirt,
    backpack: rng.bernoulli(p.backpack),
    handbag: rng.bernoulli(g(p.handbag)),
    shoulderBag: rng.bernoulli(p.shoulderBag),
    boots: rng.bernoulli(p.boots),
    upperColor: weightedName(rng, p.upperColor),
    lowerColor: weightedName(rng, p.lowerColor),
    shoeColor: weightedName(rng, p.shoeColor),
    upperPattern: weightedName(rng, p.upperPattern),
  };
}
