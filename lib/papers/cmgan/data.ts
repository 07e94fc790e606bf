/**
 * cmGAN's data: the synthetic SYSU-like world rendered in SYSU-MM01's release layout (or a
 * real copy), loaded through the SYSU-MM01 loader, decoded once into a pixel cache, and
 * served as cross-modal pair batches (lib/papers/cmgan/README.md, 'Synthetic world', Alg. 1 lines 1–3).
 *
 * @module
 */
import { SYMMETRIC_NORMALIZATION } from "../../data/images.ts";
import type { ReidSplit } from "../../data/split.ts";
import type { ReidDataset } from "../../data/types.ts";
import { DEFAULT_CONFIGS, type SysuConfig } from "../../data/world/presets.ts";
import { loadSysuSplits } from "../../engine/synthetic.ts";
import type { CmganConfig, WorldKnobs } from "./config.ts";

/** Network inputs are scaled to [−1, 1] (lib/papers/cmgan/README.md, 'Synthetic world'). */
export const INPUT_NORMALIZATION = SYMMETRIC_NORMALIZATION;

const ACHROMATIC = new Set(["black", "white", "gray"]);

/** Colour weights rescaled so black/white/gray hold `share` of the mass (null: unchanged). */
function achromaticShare<W extends Partial<Record<string, number>>>(
  weights: W,
  share: number | null,
): W {
  if (share === null) return weights;
  const entries = Object.entries(weights) as [string, number][];
  const gray = entries.filter(([k]) => ACHROMATIC.has(k)).reduce((a, [, w]) => a + w, 0);
  const hue = entries.filter(([k]) => !ACHROMATIC.has(k)).reduce((a, [, w]) => a + w, 0);
  return Object.fromEntries(
    entries.map(([k, w]) => [k, ACHROMATIC.has(k) ? (w / gray) * share : (w / hue) * (1 - share)]),
  ) as W;
}

/** The `sysu_mm01` preset with the world knobs applied (cameras 3 and 6 are the IR ones). */
export function sysuWorld(knobs: WorldKnobs): SysuConfig {
  const base = DEFAULT_CONFIGS.sysu_mm01;
  const cameras = base.cameras.map((cam) => {
    if (cam.id !== 3 && cam.id !== 6) return cam;
    const ir = cam.id === 3 ? 0 : 1;
    const gain = cam.gain.map((g) => g * knobs.irGain) as unknown as typeof cam.gain;
    return { ...cam, gain, blur: knobs.irBlur[ir], noise: knobs.irNoise[ir] };
  });
  const patterns = base.priors.upperPattern;
  const patterned = Object.entries(patterns).filter(([k]) => k !== "plain");
  const patternTotal = patterned.reduce((a, [, w]) => a + (w ?? 0), 0);
  const priors = {
    ...base.priors,
    upperPattern: {
      plain: 1 - knobs.patternShare,
      ...Object.fromEntries(
        patterned.map(([k, w]) => [k, ((w ?? 0) / patternTotal) * knobs.patternShare]),
      ),
    },
    upperColor: achromaticShare(base.priors.upperColor, knobs.achromatic),
    lowerColor: achromaticShare(base.priors.lowerColor, knobs.achromatic),
    backpack: knobs.backpack,
    lowerLong: knobs.shortLower === null
      ? base.priors.lowerLong
      : { female: 1 - knobs.shortLower, male: 1 - knobs.shortLower },
  };
  return {
    ...base,
    cameras,
    priors,
    appearance: {
      ...base.appearance,
      shadeStd: knobs.shadeStd,
      ...(knobs.thermalCoupling > 0 ? { thermalCoupling: knobs.thermalCoupling } : {}),
      ...(knobs.irCues ? { irCues: knobs.irCues } : {}),
      ...(knobs.build ? { height: knobs.build.height, width: knobs.build.width } : {}),
    },
    trainIds: knobs.trainIds,
    valIds: knobs.valIds,
    testIds: knobs.testIds,
    maxId: knobs.maxId,
    trainRgbPerCam: knobs.trainRgbPerCam,
    trainIrPerCam: knobs.trainIrPerCam,
    testRgbPerCam: knobs.testRgbPerCam,
    testIrPerCam: knobs.testIrPerCam,
  };
}

/** Everything a cmGAN cell reads: the dataset, its train/val/test splits and the classes. */
export interface CmganData {
  dataset: ReidDataset;
  train: ReidSplit;
  val: ReidSplit;
  test: ReidSplit;
  /** Training pid → class index (sorted pids). */
  classOf: Map<number, number>;
  numClasses: number;
}

/** Loads (rendering first when synthetic) the dataset and decodes its three parts. */
export async function loadCmganData(
  data: CmganConfig["data"],
  log: (line: string) => void = () => {},
): Promise<CmganData> {
  const tag = data.synthetic ? `cmgan-w${data.worldSeed}` : "sysu";
  const { dataset, train, val, test } = await loadSysuSplits(data, sysuWorld(data.world), tag, log);
  const pids = [...new Set(train.indices.map((i) => dataset.images[i].pid))].sort((a, b) => a - b);
  const classOf = new Map(pids.map((pid, c) => [pid, c]));
  return { dataset, train, val, test, classOf, numClasses: pids.length };
}
