/**
 * PRID2011 single-shot (Hirzer et al., SCIA 2011): `single_shot/cam_a/`
 * (385 persons) and `single_shot/cam_b/` (749 persons), files
 * `person_<nnnn>.png`. Only persons 1–200 are the same people in both
 * cameras; cam_a's 201–385 and cam_b's 201–749 are different people.
 *
 * Shared persons and cam_b-only persons keep their release numbers as pids;
 * cam_a-only persons get pid {@link PRID_CAM_A_ONLY_OFFSET} + n so they never
 * collide with cam_b's person n (their release number is in `meta.person`).
 * Every image has split "all". Ten random halves of the shared persons are
 * drawn with the seed (saved as `splits_seed<N>.json`); in each trial the
 * other half's cam_a images are the queries and the gallery is their cam_b
 * images plus every cam_b-only person as a distractor (the protocol torchreid
 * follows). cam_a-only persons are kept but take part in no trial.
 *
 * @module
 */
import { join } from "node:path";
import type { DatasetTrial, ReidDataset, ReidImage } from "../types.ts";
import {
  findDataDir,
  folderNotes,
  layoutError,
  listImages,
  type LoaderOptions,
  parseName,
  seedOf,
} from "./common.ts";
import { announce } from "./summary.ts";
import { halfSplits } from "./viper.ts";

/** Options of {@link loadPRID2011}. */
export interface PRIDOptions extends LoaderOptions {
  /** Persons 1..sharedIds appear in both cameras (default 200, as released). */
  sharedIds?: number;
  /** Random halves to draw (default 10). */
  splits?: number;
}

/** Added to the number of a person seen only by cam_a to make its pid. */
export const PRID_CAM_A_ONLY_OFFSET = 100000;

/** Loads PRID2011 single-shot from `root` (the release folder or a folder holding it). */
export function loadPRID2011(root: string, options: PRIDOptions = {}): ReidDataset {
  const seed = seedOf(options);
  const shared = options.sharedIds ?? 200;
  const dataDir = findDataDir(root, ["", "prid_2011", "prid2011/prid_2011", "prid2011"], [
    "single_shot/cam_a",
    "single_shot/cam_b",
  ]);
  if (!dataDir) {
    throw layoutError(
      "prid2011",
      root,
      `no single_shot/cam_a and single_shot/cam_b under ${root}`,
      [
        `  ${root}/  (or prid_2011/ inside it)`,
        `    single_shot/cam_a/  person_0001.png … person_0385.png`,
        `    single_shot/cam_b/  person_0001.png … person_0749.png  (1–${shared} shared with cam_a)`,
      ].join("\n"),
    );
  }
  const images: ReidImage[] = [];
  const notes: string[] = [];
  const persons: number[][] = [];
  for (const [folder, camid] of [["cam_a", 1], ["cam_b", 2]] as const) {
    const dir = join(dataDir, "single_shot", folder);
    const listed = listImages(dir);
    const files = listed.images;
    notes.push(...folderNotes(`${folder}/`, listed));
    const seen: number[] = [];
    for (const file of files) {
      const n = Number(parseName(/^person_(\d+)\.\w+$/, file, dir, "person_<nnnn>.png")[1]);
      seen.push(n);
      const pid = camid === 1 && n > shared ? PRID_CAM_A_ONLY_OFFSET + n : n;
      images.push({
        path: join(dir, file),
        pid,
        camid,
        modality: "rgb",
        split: "all",
        meta: { person: n },
      });
    }
    persons.push(seen);
  }
  const sharedIds = Array.from({ length: shared }, (_, i) => i + 1);
  for (const [c, seen] of persons.entries()) {
    const set = new Set(seen);
    const missing = sharedIds.filter((p) => !set.has(p));
    if (missing.length) {
      throw layoutError(
        "prid2011",
        root,
        `${join(dataDir, "single_shot", c === 0 ? "cam_a" : "cam_b")} lacks shared person(s) ` +
          `${missing.slice(0, 10).join(", ")} (persons 1–${shared} must be in both cameras; ` +
          `set the sharedIds option for a smaller copy)`,
        `  single_shot/cam_a/person_0001.png … and single_shot/cam_b/person_0001.png …`,
      );
    }
  }
  const aOnly = persons[0].filter((n) => n > shared).length;
  const bOnly = persons[1].filter((n) => n > shared).length;
  notes.push(
    `${shared} shared persons; ${bOnly} cam_b-only persons used as gallery distractors; ` +
      `${aOnly} cam_a-only persons kept (pid ${PRID_CAM_A_ONLY_OFFSET} + n) but in no trial`,
  );
  const dataset: ReidDataset = {
    name: "prid2011",
    root: dataDir,
    images,
    attributeNames: [],
    attributeGroups: {},
    notes,
  };
  const halves = halfSplits(
    dataset,
    dataDir,
    sharedIds,
    seed,
    options.splits ?? 10,
    "prid2011/splits",
  );
  const trials: DatasetTrial[] = halves.map((trainIds, k) => {
    const inTrain = new Set(trainIds);
    const train: number[] = [];
    const query: number[] = [];
    const gallery: number[] = [];
    images.forEach((im, i) => {
      const n = im.meta!.person as number;
      if (n <= shared && inTrain.has(n)) train.push(i);
      else if (n <= shared) (im.camid === 1 ? query : gallery).push(i);
      else if (im.camid === 2) gallery.push(i);
    });
    return { name: `split${k + 1}`, seed, train, query, gallery };
  });
  dataset.trials = trials;
  return announce(dataset, options.verbose);
}
