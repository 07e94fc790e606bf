/**
 * Writers of the synthetic world in the real releases' layouts, by preset.
 *
 * @module
 */
import type { PresetConfigs, PresetName } from "../world/presets.ts";
import type { DatasetPlan } from "./plan.ts";
import { planDukemtmcReid, planMarket1501 } from "./market_duke.ts";
import { planPeta } from "./peta.ts";
import { planSysuMm01 } from "./sysu_mm01.ts";
import { planRegdb } from "./regdb.ts";
import { planPrid2011, planViper } from "./two_camera.ts";

export * from "./plan.ts";
export { DUKE_DIR, MARKET_DIR } from "./market_duke.ts";
export { PETA_DIR, PETA_SOURCES } from "./peta.ts";
export { SYSU_DIR } from "./sysu_mm01.ts";
export { REGDB_DIR } from "./regdb.ts";
export { PRID_DIR, VIPER_DIR } from "./two_camera.ts";

/** Plans the dataset of a preset from its config and seed (pure: no disk access). */
export function planPreset<P extends PresetName>(
  name: P,
  config: PresetConfigs[P],
  seed: number,
): DatasetPlan {
  switch (name) {
    case "market1501":
      return planMarket1501(config as PresetConfigs["market1501"], seed);
    case "dukemtmc_reid":
      return planDukemtmcReid(config as PresetConfigs["dukemtmc_reid"], seed);
    case "peta":
      return planPeta(config as PresetConfigs["peta"], seed);
    case "sysu_mm01":
      return planSysuMm01(config as PresetConfigs["sysu_mm01"], seed);
    case "regdb":
      return planRegdb(config as PresetConfigs["regdb"], seed);
    case "viper":
      return planViper(config as PresetConfigs["viper"], seed);
    case "prid2011":
      return planPrid2011(config as PresetConfigs["prid2011"], seed);
  }
  throw new Error(`planPreset: unknown preset "${name}"`);
}
