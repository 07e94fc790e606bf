/**
 * The clothing palette of the synthetic world and small colour helpers.
 *
 * Colour names are the union of the attribute vocabularies of Market-1501,
 * DukeMTMC-reID and PETA (PETA's 11 colours; Market's and Duke's are subsets),
 * so every dataset schema can name the colour an identity wears.
 *
 * @module
 */

/** A colour as linear-ish RGB floats in [0, 1]. */
export type Rgb = readonly [number, number, number];

/** Every colour name a schema can label. */
export const COLOR_NAMES = [
  "black",
  "white",
  "gray",
  "red",
  "blue",
  "green",
  "yellow",
  "purple",
  "pink",
  "brown",
  "orange",
] as const;

/** One of {@link COLOR_NAMES}. */
export type ColorName = typeof COLOR_NAMES[number];

/**
 * Reference RGB of each palette colour. Values are chosen so that neighbours
 * (white/gray, black/blue, red/pink/orange) become confusable under the
 * camera transforms, as in real surveillance footage.
 */
export const PALETTE: Readonly<Record<ColorName, Rgb>> = {
  black: [0.09, 0.09, 0.1],
  white: [0.9, 0.9, 0.88],
  gray: [0.5, 0.5, 0.5],
  red: [0.78, 0.13, 0.12],
  blue: [0.16, 0.27, 0.68],
  green: [0.18, 0.52, 0.2],
  yellow: [0.92, 0.8, 0.16],
  purple: [0.48, 0.22, 0.58],
  pink: [0.93, 0.56, 0.7],
  brown: [0.45, 0.29, 0.15],
  orange: [0.94, 0.5, 0.12],
};

/** Clamps to [0, 1]. */
export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Adds a per-channel offset and clamps. */
export function shade(color: Rgb, offset: Rgb): Rgb {
  return [
    clamp01(color[0] + offset[0]),
    clamp01(color[1] + offset[1]),
    clamp01(color[2] + offset[2]),
  ];
}

/** Rec. 601 luma of a colour. */
export function luma(color: Rgb): number {
  return 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2];
}

/** CSS `rgb(...)` string of a colour, for SVG fills. */
export function css(color: Rgb): string {
  const c = (v: number) => Math.round(clamp01(v) * 255);
  return `rgb(${c(color[0])},${c(color[1])},${c(color[2])})`;
}

/** A gray level as an RGB triple. */
export function gray(level: number): Rgb {
  const v = clamp01(level);
  return [v, v, v];
}
