/**
 * A synthetic identity: attributes plus the appearance details no annotator
 * labels (exact shades, body proportions, skin and hair tone, torso pattern
 * layout, bag colour and side, thermal emissivities). These make identity more
 * than its attribute vector, which re-id methods need (TJ-AIDL §10.6).
 *
 * @module
 */
import type { Rng } from "../../runtime/random.ts";
import { clamp01, PALETTE, type Rgb, shade } from "./colors.ts";
import {
  type AttributePriors,
  DEFAULT_PRIORS,
  sampleAttributes,
  type WorldAttributes,
} from "./attributes.ts";

/** Strength of the identity-level, unlabelled appearance details. */
export interface AppearanceConfig {
  /** Std of the per-identity shade offset of each garment colour, per channel. */
  shadeStd: number;
  /** Range of the body height scale. */
  height: [number, number];
  /** Range of the body width scale (multiplied by 0.9 for women). */
  width: [number, number];
}

/** Defaults from the cards (TJ-AIDL §10.6 suggests strengthening the shade to 0.1). */
export const DEFAULT_APPEARANCE: AppearanceConfig = {
  shadeStd: 0.08,
  height: [0.84, 1.0],
  width: [0.88, 1.12],
};

const SKIN_TONES: Rgb[] = [
  [0.96, 0.8, 0.69],
  [0.87, 0.67, 0.52],
  [0.72, 0.52, 0.38],
  [0.5, 0.35, 0.25],
];

/** Identity-level appearance beyond the attributes. */
export interface Appearance {
  upper: Rgb;
  lower: Rgb;
  shoe: Rgb;
  hat: Rgb;
  hair: Rgb;
  skin: Rgb;
  bag: Rgb;
  patternColor: Rgb;
  /** Stripe period in units of the 128-high canvas. */
  patternPeriod: number;
  /** Vertical position of a logo / first stripe, as a fraction of the torso. */
  patternOffset: number;
  heightScale: number;
  widthScale: number;
  headScale: number;
  /** Fraction of body height taken by the legs. */
  legRatio: number;
  /** Side of the shoulder bag and handbag: -1 left, +1 right (image coordinates, front view). */
  bagSide: -1 | 1;
  /** Thermal radiance levels in [0, 1], drawn independently of the RGB colours. */
  thermal: { upper: number; lower: number; bag: number; hair: number; body: number };
}

/** A person of the world. */
export interface Identity {
  /** Stable key of the identity within its dataset (used to fork its random stream). */
  key: string;
  attributes: WorldAttributes;
  appearance: Appearance;
}

function jitter(rng: Rng, std: number): Rgb {
  return [rng.normal(0, std), rng.normal(0, std), rng.normal(0, std)];
}

/** Draws the appearance of a person with the given attributes. */
export function sampleAppearance(
  rng: Rng,
  a: WorldAttributes,
  cfg: AppearanceConfig = DEFAULT_APPEARANCE,
): Appearance {
  const s = cfg.shadeStd;
  const contrast = (c: Rgb): Rgb => {
    // Pattern colour: a clearly different colour from the garment.
    const l = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    return l > 0.5
      ? shade(PALETTE.black, jitter(rng, 0.08))
      : shade(PALETTE.white, jitter(rng, 0.08));
  };
  const upper = shade(PALETTE[a.upperColor], jitter(rng, s));
  const patternPick = rng.float();
  const patternColor = patternPick < 0.5 ? contrast(upper) : shade(
    PALETTE[rng.choice(["red", "blue", "yellow", "green", "white", "black"] as const)],
    jitter(rng, s),
  );
  return {
    upper,
    lower: shade(PALETTE[a.lowerColor], jitter(rng, s)),
    shoe: shade(PALETTE[a.shoeColor], jitter(rng, s * 0.7)),
    hat: shade(PALETTE[a.hatColor], jitter(rng, s)),
    hair: shade(
      a.hairColor === "yellow" ? [0.85, 0.7, 0.35] : PALETTE[a.hairColor],
      jitter(rng, 0.04),
    ),
    skin: shade(rng.choice(SKIN_TONES), jitter(rng, 0.03)),
    bag: shade(
      PALETTE[rng.choice(["black", "brown", "gray", "blue", "red", "white"] as const)],
      jitter(rng, s),
    ),
    patternColor,
    patternPeriod: rng.choice([5, 6, 8]),
    patternOffset: rng.uniform(0.15, 0.45),
    heightScale: rng.uniform(cfg.height[0], cfg.height[1]) * (a.age === 0 ? 0.82 : 1),
    widthScale: rng.uniform(cfg.width[0], cfg.width[1]) * (a.female ? 0.9 : 1),
    headScale: rng.uniform(0.9, 1.1),
    legRatio: rng.uniform(0.44, 0.5),
    bagSide: rng.bernoulli(0.5) ? 1 : -1,
    thermal: {
      upper: rng.uniform(0.35, 0.75),
      lower: rng.uniform(0.35, 0.75),
      bag: rng.uniform(0.15, 0.35),
      hair: rng.uniform(0.45, 0.65),
      body: clamp01(0.9 + rng.uniform(-0.05, 0.05)),
    },
  };
}

/** Draws a complete identity (attributes from the prior, then appearance). */
export function sampleIdentity(
  rng: Rng,
  key: string,
  priors: AttributePriors = DEFAULT_PRIORS,
  appearance: AppearanceConfig = DEFAULT_APPEARANCE,
): Identity {
  const attributes = sampleAttributes(rng.fork("attributes"), priors);
  return {
    key,
    attributes,
    appearance: sampleAppearance(rng.fork("appearance"), attributes, appearance),
  };
}

/** An identity with given attributes (for attribute-category pools such as PETA's). */
export function identityWithAttributes(
  rng: Rng,
  key: string,
  attributes: WorldAttributes,
  appearance: AppearanceConfig = DEFAULT_APPEARANCE,
): Identity {
  return {
    key,
    attributes,
    appearance: sampleAppearance(rng.fork("appearance"), attributes, appearance),
  };
}
