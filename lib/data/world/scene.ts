/**
 * Cameras, domain styles and per-image shots: everything about an image that
 * is not the person. All of it is plain data, so a preset's difficulty is a
 * config object that can be calibrated on a paper's baseline.
 *
 * @module
 */
import type { Modality } from "../types.ts";
import type { Rng } from "../../runtime/random.ts";
import { COLOR_NAMES, PALETTE, type Rgb } from "./colors.ts";

/** A fixed piece of scenery (door, bench, pillar) in canvas units (canvas is 128 units high). */
export interface FixedShape {
  x: number;
  y: number;
  w: number;
  h: number;
  color: Rgb;
  ellipse?: boolean;
}

/** The background a camera sees. Colours are RGB for visible cameras and gray levels for IR. */
export interface BackgroundModel {
  base: Rgb;
  /** Relative brightness difference between the top and the bottom of the frame. */
  gradient: number;
  /** Floor colour (drawn from 80 % of the height down), or null for none. */
  floor: Rgb | null;
  fixed: FixedShape[];
  /** Extra random clutter shapes per image: [min, max] count. */
  clutter: [number, number];
  /** Clutter colours: "palette" = clothing colours (confusers), "muted" = grays, "warm" = IR blobs. */
  clutterColors: "palette" | "muted" | "warm";
}

/** One camera: its modality, scenery and photometric transform. */
export interface CameraModel {
  /** 1-based camera index, as in the release's file names. */
  id: number;
  modality: Modality;
  background: BackgroundModel;
  /** Per-channel colour transform v' = gain · v^gamma + offset (IR uses channel 0). */
  gain: Rgb;
  gamma: Rgb;
  offset: Rgb;
  /** Per-image illumination gain range. */
  illumination: [number, number];
  /** Gaussian blur sigma in output pixels (0 = none). */
  blur: number;
  /** Gaussian pixel noise std (in [0, 1] units). */
  noise: number;
  /** Person size relative to the frame. */
  personScale: number;
}

/**
 * Dataset-wide nuisance knobs ("market-like" is mild, "duke-like" harsher).
 * Applied on top of each camera's own model.
 */
export interface DomainStyle {
  name: string;
  /** Max |shift| in canvas units (x, y), and the scale range. */
  shift: [number, number];
  scale: [number, number];
  /** View weights: front, back, side. */
  views: [number, number, number];
  /** Probability of a horizontal flip (bag sides flip with it). */
  flip: number;
  /** Probability of an extra 3×3 box blur. */
  blurProb: number;
  /** Occluder probability and covered fraction of the frame area. */
  occluder: { p: number; area: [number, number] };
  /** Extra clutter shapes per image added to every camera's own. */
  extraClutter: [number, number];
  /** Per-camera colour cast amplitude (± per channel, multiplicative). */
  colorCast: number;
  /** Contrast: v' = v · a + b. */
  contrast: [number, number];
  /** Box-downsample factor then bilinear upsample (1 = none). */
  resolutionLoss: number;
  /** Extra Gaussian noise std range per image. */
  noise: [number, number];
  /** Per-image clothing colour jitter std (lighting on fabric). */
  shadeJitter: number;
}

/** The mild, Market-like style (lib/papers/tjaidl/README.md domain A). */
export const MARKET_LIKE: DomainStyle = {
  name: "market-like",
  shift: [2, 2],
  scale: [0.92, 1.02],
  views: [0.4, 0.4, 0.2],
  flip: 0.5,
  blurProb: 0.2,
  occluder: { p: 0.08, area: [0.1, 0.2] },
  extraClutter: [1, 3],
  colorCast: 0.04,
  contrast: [1, 0],
  resolutionLoss: 1,
  noise: [0.015, 0.03],
  shadeJitter: 0.03,
};

/** The harsher, Duke-like style (lib/papers/tjaidl/README.md, 'Synthetic world': domain B at its "mild" severity). */
export const DUKE_LIKE: DomainStyle = {
  name: "duke-like",
  shift: [4, 3],
  scale: [0.88, 1.04],
  views: [0.4, 0.4, 0.2],
  flip: 0.5,
  blurProb: 0.3,
  occluder: { p: 0.15, area: [0.12, 0.22] },
  extraClutter: [2, 4],
  colorCast: 0.1,
  contrast: [0.85, 0.07],
  resolutionLoss: 2,
  noise: [0.03, 0.045],
  shadeJitter: 0.04,
};

/** The three views. */
export type View = "front" | "back" | "side";

/** A placed shape for clutter and occluders. */
export interface PlacedShape extends FixedShape {}

/** Everything random about one image, drawn before rendering. */
export interface Shot {
  view: View;
  /** Facing direction in side view: +1 right, -1 left. */
  facing: 1 | -1;
  flip: boolean;
  /** Walking phase in [0, 1): leg spread and arm swing. */
  phase: number;
  dx: number;
  dy: number;
  scale: number;
  illumination: number;
  boxBlur: boolean;
  noise: number;
  /** Multiplicative brightness of the background base colour. */
  backgroundTint: number;
  clutter: PlacedShape[];
  occluder: PlacedShape | null;
  /** Per-image colour jitter added to the garment colours. */
  shadeJitter: Rgb;
}

function pickClutterColor(rng: Rng, kind: BackgroundModel["clutterColors"]): Rgb {
  if (kind === "palette") {
    const c = PALETTE[rng.choice(COLOR_NAMES)];
    const k = rng.uniform(0.7, 1.05);
    return [c[0] * k, c[1] * k, c[2] * k];
  }
  if (kind === "warm") {
    const v = rng.uniform(0.2, 0.5);
    return [v, v, v];
  }
  const v = rng.uniform(0.35, 0.65);
  const t = rng.uniform(-0.04, 0.04);
  return [v + t, v, v - t];
}

/**
 * Draws the random content of one image for a camera and style.
 * `canvasWidth` is in canvas units (the canvas is 128 units high).
 */
export function sampleShot(
  rng: Rng,
  camera: CameraModel,
  style: DomainStyle,
  canvasWidth: number,
): Shot {
  const viewIndex = rng.weighted(style.views);
  const view: View = (["front", "back", "side"] as const)[viewIndex];
  const [cmin, cmax] = camera.background.clutter;
  const [emin, emax] = style.extraClutter;
  const nClutter = cmin + rng.int(cmax - cmin + 1) + emin + rng.int(emax - emin + 1);
  const clutter: PlacedShape[] = [];
  for (let i = 0; i < nClutter; i++) {
    const w = rng.uniform(0.15, 0.5) * canvasWidth;
    const h = rng.uniform(8, 40);
    clutter.push({
      x: rng.uniform(-0.2, 1) * canvasWidth,
      y: rng.uniform(0, 110),
      w,
      h,
      color: pickClutterColor(rng, camera.background.clutterColors),
      ellipse: rng.bernoulli(0.3),
    });
  }
  let occluder: PlacedShape | null = null;
  if (rng.bernoulli(style.occluder.p)) {
    const area = rng.uniform(style.occluder.area[0], style.occluder.area[1]) * canvasWidth * 128;
    const w = Math.min(canvasWidth, rng.uniform(0.5, 1.0) * canvasWidth);
    const h = Math.min(60, area / w);
    const fromLeft = rng.bernoulli(0.5);
    occluder = {
      x: fromLeft
        ? rng.uniform(-0.3, 0) * canvasWidth
        : canvasWidth - w + rng.uniform(0, 0.3) * canvasWidth,
      y: 128 - h - rng.uniform(0, 30),
      w,
      h,
      color: camera.modality === "ir"
        ? ((v) => [v, v, v] as Rgb)(rng.uniform(0.1, 0.4))
        : pickClutterColor(rng, rng.bernoulli(0.5) ? "palette" : "muted"),
    };
  }
  return {
    view,
    facing: rng.bernoulli(0.5) ? 1 : -1,
    flip: rng.bernoulli(style.flip),
    phase: rng.float(),
    dx: rng.uniform(-style.shift[0], style.shift[0]),
    dy: rng.uniform(-style.shift[1], style.shift[1]),
    scale: rng.uniform(style.scale[0], style.scale[1]),
    illumination: rng.uniform(camera.illumination[0], camera.illumination[1]),
    boxBlur: rng.bernoulli(style.blurProb),
    noise: rng.uniform(style.noise[0], style.noise[1]),
    backgroundTint: rng.uniform(0.85, 1.15),
    clutter,
    occluder,
    shadeJitter: [
      rng.normal(0, style.shadeJitter),
      rng.normal(0, style.shadeJitter),
      rng.normal(0, style.shadeJitter),
    ],
  };
}

/** Ranges for drawing a set of visible-light cameras for a preset. */
export interface CameraRanges {
  count: number;
  /** Per-channel gain and gamma ranges, offset amplitude. */
  gain: [number, number];
  gamma: [number, number];
  offset: number;
  illumination: [number, number];
  blur: [number, number];
  noise: number;
  clutter: [number, number];
  personScale: [number, number];
}

/**
 * Draws `count` RGB cameras with their own colour transforms and scenery
 * (lib/papers/tjaidl/README.md: gain U[0.85, 1.15], offset ±0.05, gamma U[0.85, 1.15]); the
 * style's colour cast is folded into each camera's gain.
 */
export function drawRgbCameras(rng: Rng, ranges: CameraRanges, style: DomainStyle): CameraModel[] {
  const cams: CameraModel[] = [];
  for (let i = 0; i < ranges.count; i++) {
    const r = rng.fork(`camera${i + 1}`);
    const u = (lo: number, hi: number) => r.uniform(lo, hi);
    const cast = [0, 1, 2].map(() => 1 + u(-style.colorCast, style.colorCast));
    const baseLevel = u(0.35, 0.75);
    const tint: Rgb = [u(-0.08, 0.08), u(-0.05, 0.05), u(-0.08, 0.08)];
    const base: Rgb = [baseLevel + tint[0], baseLevel + tint[1], baseLevel + tint[2]];
    const fixed: FixedShape[] = [];
    const nFixed = r.int(3);
    for (let k = 0; k < nFixed; k++) {
      const v = u(0.2, 0.8);
      fixed.push({
        x: u(-10, 50),
        y: u(0, 90),
        w: u(8, 25),
        h: u(20, 90),
        color: [v, v * u(0.9, 1.1), v * u(0.85, 1.1)],
      });
    }
    const floorLevel = u(0.3, 0.7);
    cams.push({
      id: i + 1,
      modality: "rgb",
      background: {
        base,
        gradient: u(0, 0.2),
        floor: r.bernoulli(0.6) ? [floorLevel, floorLevel * 0.97, floorLevel * 0.92] : null,
        fixed,
        clutter: ranges.clutter,
        clutterColors: "palette",
      },
      gain: [0, 1, 2].map((c) => u(ranges.gain[0], ranges.gain[1]) * cast[c]) as unknown as Rgb,
      gamma: [
        u(ranges.gamma[0], ranges.gamma[1]),
        u(ranges.gamma[0], ranges.gamma[1]),
        u(ranges.gamma[0], ranges.gamma[1]),
      ],
      offset: [
        u(-ranges.offset, ranges.offset),
        u(-ranges.offset, ranges.offset),
        u(-ranges.offset, ranges.offset),
      ],
      illumination: ranges.illumination,
      blur: u(ranges.blur[0], ranges.blur[1]),
      noise: ranges.noise,
      personScale: u(ranges.personScale[0], ranges.personScale[1]),
    });
  }
  return cams;
}
