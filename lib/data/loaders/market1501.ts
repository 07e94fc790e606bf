/**
 * Market-1501 (Zheng et al., ICCV 2015), release `Market-1501-v15.09.15`.
 *
 * Names are `<pid>_c<cam>s<seq>_<frame>_<box>.jpg`, e.g.
 * `0002_c1s1_000451_03.jpg`. In the gallery, pid 0000 marks distractors
 * (false detections, ranked as negatives) and -1 junk boxes (ignored by the
 * release's evaluation). Six cameras. Loaded as splits train / query /
 * gallery; distractors and junk are kept, and counted in the summary.
 *
 * @module
 */
import type { ReidDataset } from "../types.ts";
import {
  type BoundingBoxOptions,
  type BoundingBoxRelease,
  loadBoundingBoxRelease,
} from "./bounding_box.ts";

/** The Market-1501 layout. */
export const MARKET1501: BoundingBoxRelease = {
  name: "market1501",
  title: "Market-1501",
  candidates: ["", "Market-1501-v15.09.15", "market1501/Market-1501-v15.09.15", "market1501"],
  pattern: /^(-1|\d+)_c(\d)s(\d+)_(\d+)_(\d+)\.jpe?g$/i,
  patternText: "<pid>_c<cam>s<seq>_<frame>_<box>.jpg (e.g. 0002_c1s1_000451_03.jpg)",
  extras: ["sequence", "frame", "box"],
  example: "0002_c1s1_000451_03.jpg",
  cameras: 6,
  attributeRelease: "market",
};

/** Loads Market-1501 from `root` (the release folder or a folder holding it). */
export function loadMarket1501(root: string, options: BoundingBoxOptions = {}): ReidDataset {
  return loadBoundingBoxRelease(MARKET1501, root, options);
}
