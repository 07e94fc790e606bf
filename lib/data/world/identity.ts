/**
 * A synthetic identity: attributes plus the appearance details no annotator
 * labels (exact shades, body proportions, skin and hair tone, torso pattern
 * layout, bag colour and side, thermal emissivities). These make identity more
 * than its attribute vector, which re-id methods need (lib/papers/tjaidl/README.md).
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
  /**
   * How far garment thermal levels follow the visible colour, 0–1 (default 0: drawn
   * independently of it). At 1 they follow the emissivity model of lib/papers/cmgan/README.md ('Synthetic world'): radiance
   * ε·T with ε = clip(0.45 + 0.35·(1 − V) + 0.12·u, 0.25, 0.95), T = 0.85 + τ, where V is
   * the garment's HSV value and u ~ U[−1, 1], τ ~ U[−0.05, 0.05] are IR-only offsets, so
   * dark clothes glow brighter than light ones, as in real LWIR images.
   */
  thermalCoupling?: number;
  /**
   * Identity cues that survive the change to infrared (lib/papers/cmgan/README.md, 'Synthetic
   * world'); absent: none, every identity as before. Drawn from a stream of their own.
   */
  irCues?: IrCues;
}

/**
 * Stronger identity-level detail in the thermal image: garment levels spread wider (thermal
 * contrast between people), the top's pattern at a stronger emissivity contrast (garment
 * texture), and shoes, hat and bag each at the person's own level instead of a shared one
 * (accessories). Visible colours are untouched.
 */
export type IrCues = {
  /** Range of the upper and lower garments' thermal levels (the default draws U[0.35, 0.75]). */
  garment: [number, number];
  /** Thermal contrast of the top's pattern against the top (the default 0.12). */
  pattern: number;
  /** Range of the per-person shoe, hat and bag levels (default: shoes 0.4, hat 0.45, bag U[0.15, 0.35]). */
  accessories: [number, number];
};

/** Defaults of the papers' plans (TJ-AIDL's strengthens the shade to 0.1: lib/papers/tjaidl/README.md). */
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
  /**
   * Thermal radiance levels in [0, 1], drawn independently of the RGB colours; `shoe`, `hat`
   * and `pattern` (the top pattern's contrast) only with {@link AppearanceConfig.irCues}.
   */
  thermal: {
    upper: number;
    lower: number;
    bag: number;
    hair: number;
    body: number;
    shoe?: number;
    hat?: number;
    pattern?: number;
  };
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
  // Drawn here, where the literal below used to draw it: identities stay as they were.
  const lower = shade(PALETTE[a.lowerColor], jitter(rng, s));
  return {
    upper,
    lower,
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
    thermal: withIrCues(
      coupleThermal(
        {
          upper: rng.uniform(0.35, 0.75),
          lower: rng.uniform(0.35, 0.75),
          bag: rng.uniform(0.15, 0.35),
          hair: rng.uniform(0.45, 0.65),
          body: clamp01(0.9 + rng.uniform(-0.05, 0.05)),
        },
        upper,
        lower,
        cfg.thermalCoupling ?? 0,
        rng.fork("thermal-coupling"),
      ),
      cfg.irCues,
      rng.fork("ir-cues"),
    ),
  };
}

/**
 * The thermal levels with {@link IrCues} applied (redrawn from their own `rng`); unchanged
 * without cues, so a world without them is the same world as before.
 */
function withIrCues(
  thermal: Appearance["thermal"],
  cues: IrCues | undefined,
  rng: Rng,
): Appearance["thermal"] {
  if (cues === undefined) return thermal;
  const [g0, g1] = cues.garment;
  const [a0, a1] = cues.accessories;
  if (!(0 <= g0 && g0 <= g1 && g1 <= 1 && 0 <= a0 && a0 <= a1 && a1 <= 1)) {
    throw new Error(`appearance.irCues: ranges must lie in [0, 1], got ${JSON.stringify(cues)}`);
  }
  return {
    ...thermal,
    upper: rng.uniform(g0, g1),
    lower: rng.uniform(g0, g1),
    bag: rng.uniform(a0, a1),
    shoe: rng.uniform(a0, a1),
    hat: rng.uniform(a0, a1),
    pattern: cues.pattern,
  };
}

/**
 * Mixes independent garment thermal levels with colour-driven ones (lib/papers/cmgan/README.md, 'Synthetic world') (see
 * {@link AppearanceConfig.thermalCoupling}). Draws only from its own `rng`, so a coupling
 * of 0 leaves every identity as it was.
 */
function coupleThermal(
  thermal: Appearance["thermal"],
  upper: Rgb,
  lower: Rgb,
  coupling: number,
  rng: Rng,
): Appearance["thermal"] {
  if (!(coupling >= 0 && coupling <= 1)) {
    throw new Error(`appearance.thermalCoupling must be in [0, 1], got ${coupling}`);
  }
  if (coupling === 0) return thermal;
  const temperature = 0.85 + rng.uniform(-0.05, 0.05);
  const radiance = (c: Rgb) => {
    const value = Math.max(c[0], c[1], c[2]);
    const emissivity = Math.min(
      0.95,
      Math.max(0.25, 0.45 + 0.35 * (1 - value) + 0.12 * rng.uniform(-1, 1)),
    );
    return emissivity * temperature;
  };
  const mix = (independent: number, card: number) => (1 - coupling) * independent + coupling * card;
  return {
    ...thermal,
    upper: mix(thermal.upper, radiance(upper)),
    lower: mix(thermal.lower, radiance(lower)),
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
