/**
 * One entry point for every dataset layout: `loadDataset(name, root, options)`
 * returns a {@link ReidDataset} whether `root` holds a real release or the
 * synthetic copy written in its layout.
 *
 * @module
 */
import type { ReidDataset } from "../types.ts";
import { type BoundingBoxOptions } from "./bounding_box.ts";
import { loadDukeMTMC } from "./dukemtmc.ts";
import { loadMarket1501 } from "./market1501.ts";
import { loadPETA, type PETAOptions } from "./peta.ts";
import { loadPRID2011, type PRIDOptions } from "./prid2011.ts";
import { loadRegDB, type RegDBOptions } from "./regdb.ts";
import { loadSysuMM01, type SysuOptions } from "./sysu_mm01.ts";
import { loadVIPeR, type VIPeROptions } from "./viper.ts";

export { AnnotationError, LayoutError } from "./common.ts";
export type { LoaderOptions } from "./common.ts";
export { splitSummaries, summarize } from "./summary.ts";
export type {
  BoundingBoxOptions,
  PETAOptions,
  PRIDOptions,
  RegDBOptions,
  SysuOptions,
  VIPeROptions,
};
export { loadDukeMTMC, loadMarket1501, loadPETA, loadPRID2011, loadRegDB, loadSysuMM01, loadVIPeR };

/** Options per dataset name. */
export interface DatasetOptions {
  market1501: BoundingBoxOptions;
  dukemtmc_reid: BoundingBoxOptions;
  peta: PETAOptions;
  sysu_mm01: SysuOptions;
  regdb: RegDBOptions;
  viper: VIPeROptions;
  prid2011: PRIDOptions;
}

/** The dataset names {@link loadDataset} knows. */
export type DatasetName = keyof DatasetOptions;

const LOADERS: { [K in DatasetName]: (root: string, options?: DatasetOptions[K]) => ReidDataset } =
  {
    market1501: loadMarket1501,
    dukemtmc_reid: loadDukeMTMC,
    peta: loadPETA,
    sysu_mm01: loadSysuMM01,
    regdb: loadRegDB,
    viper: loadVIPeR,
    prid2011: loadPRID2011,
  };

/** Every dataset name, in a fixed order. */
export const DATASET_NAMES: readonly DatasetName[] = Object.keys(LOADERS) as DatasetName[];

/**
 * Loads dataset `name` from `root` (the release folder, or a folder holding it
 * under the release's own folder name). Prints a summary unless
 * `options.verbose` is false.
 *
 * @see notebooks/00_introduction.ipynb §2 (the datasets and their layouts)
 */
export function loadDataset<K extends DatasetName>(
  name: K,
  root: string,
  options?: DatasetOptions[K],
): ReidDataset {
  const loader = LOADERS[name] as
    | ((root: string, options?: DatasetOptions[K]) => ReidDataset)
    | undefined;
  if (!loader) throw new Error(`unknown dataset "${name}"; known: ${DATASET_NAMES.join(", ")}`);
  return loader(root, options);
}
