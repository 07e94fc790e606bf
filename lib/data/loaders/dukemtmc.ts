/**
 * DukeMTMC-reID (Zheng et al., ICCV 2017), folder `DukeMTMC-reID`.
 *
 * Names are `<pid>_c<cam>_f<frame>.jpg`, e.g. `0001_c2_f0046182.jpg`; eight
 * cameras; splits train / query / gallery as in Market-1501; attributes from
 * `duke_attribute.mat` (Lin et al.).
 *
 * @module
 */
import type { ReidDataset } from "../types.ts";
import {
  type BoundingBoxOptions,
  type BoundingBoxRelease,
  loadBoundingBoxRelease,
} from "./bounding_box.ts";

/** The DukeMTMC-reID layout. */
export const DUKEMTMC: BoundingBoxRelease = {
  name: "dukemtmc_reid",
  title: "DukeMTMC-reID",
  candidates: ["", "DukeMTMC-reID", "dukemtmc-reid/DukeMTMC-reID", "dukemtmc-reid"],
  pattern: /^(-1|\d+)_c(\d)_f(\d+)\.jpe?g$/i,
  patternText: "<pid>_c<cam>_f<frame>.jpg (e.g. 0001_c2_f0046182.jpg)",
  extras: ["frame"],
  example: "0001_c2_f0046182.jpg",
  cameras: 8,
  attributeRelease: "duke",
};

/** Loads DukeMTMC-reID from `root` (the release folder or a folder holding it). */
export function loadDukeMTMC(root: string, options: BoundingBoxOptions = {}): ReidDataset {
  return loadBoundingBoxRelease(DUKEMTMC, root, options);
}
