/**
 * VIPeR (Gray et al., PETS 2007): 632 identities, one image in each of two
 * cameras, `cam_a/<pid>_<angle>.bmp` and `cam_b/<pid>_<angle>.bmp` (e.g.
 * `000_45.bmp`); the pid is read from the name, and both cameras must hold the
 * same ids.
 *
 * Every image has split "all". Ten random halves (train ids / test ids) are
 * drawn with the seed and saved as `splits_seed<N>.json`; each gives two
 * trials sharing the training half, `split<k>/a-to-b` (cam_a queries, cam_b
 * gallery) and `split<k>/b-to-a`, as torchreid does.
 *
 * @module
 */
import { join } from "node:path";
import { Rng } from "../../runtime/random.ts";
import type { DatasetTrial, ReidDataset, ReidImage } from "../types.ts";
import {
  AnnotationError,
  findDataDir,
  folderNotes,
  layoutError,
  listImages,
  type LoaderOptions,
  loadOrDrawSplits,
  parseName,
  sameNumbers,
  seedOf,
} from "./common.ts";
import { announce } from "./summary.ts";

/** Options of {@link loadVIPeR}. */
export interface VIPeROptions extends LoaderOptions {
  /** Random halves to draw (default 10). */
  splits?: number;
}

/**
 * Draws (or reuses) `count` random train-id halves, saved in
 * `<dataDir>/splits_seed<seed>.json`, checked against `ids`.
 */
export function halfSplits(
  dataset: ReidDataset,
  dataDir: string,
  ids: number[],
  seed: number,
  count: number,
  label: string,
): number[][] {
  const path = join(dataDir, `splits_seed${seed}.json`);
  const known = new Set(ids);
  const { value, reused } = loadOrDrawSplits<{ seed: number; ids: number; train: number[][] }>(
    path,
    () => {
      const rng = new Rng(seed).fork(label);
      const half = Math.floor(ids.length / 2);
      return {
        seed,
        ids: ids.length,
        train: Array.from({ length: count }, () => rng.sample(ids, half).sort((a, b) => a - b)),
      };
    },
    (saved) => {
      if (saved.seed !== seed) return `seed ${saved.seed} ≠ ${seed}`;
      if (saved.ids !== ids.length) return `drawn for ${saved.ids} ids, the data has ${ids.length}`;
      if (saved.train?.length !== count) return `${saved.train?.length} splits, expected ${count}`;
      return saved.train.every((t) => t.every((p) => known.has(p))) ? null : "unknown ids";
    },
  );
  dataset.notes!.push(`${reused ? "reused" : "drew and saved"} ${count} random halves in ${path}`);
  return value.train;
}

/** Loads VIPeR from `root` (the release folder or a folder holding `VIPeR/`). */
export function loadVIPeR(root: string, options: VIPeROptions = {}): ReidDataset {
  const seed = seedOf(options);
  const dataDir = findDataDir(root, ["", "VIPeR", "viper/VIPeR"], ["cam_a", "cam_b"]);
  if (!dataDir) {
    throw layoutError(
      "viper",
      root,
      `no cam_a/ and cam_b/ folders under ${root}`,
      [
        `  ${root}/  (or VIPeR/ inside it)`,
        `    cam_a/  <pid>_<angle>.bmp, e.g. 000_45.bmp (632 images)`,
        `    cam_b/  the same pids, e.g. 000_90.bmp`,
      ].join("\n"),
    );
  }
  const images: ReidImage[] = [];
  const notes: string[] = [];
  const idsByCam: number[][] = [];
  for (const [folder, camid] of [["cam_a", 1], ["cam_b", 2]] as const) {
    const dir = join(dataDir, folder);
    const listed = listImages(dir);
    const files = listed.images;
    notes.push(...folderNotes(`${folder}/`, listed));
    const ids: number[] = [];
    for (const file of files) {
      const m = parseName(/^(\d+)_(\d+)\.\w+$/, file, dir, "<pid>_<angle>.bmp (e.g. 000_45.bmp)");
      const pid = Number(m[1]);
      if (ids.includes(pid)) {
        throw new AnnotationError(`${dir}: id ${m[1]} has more than one image`);
      }
      ids.push(pid);
      images.push({
        path: join(dir, file),
        pid,
        camid,
        modality: "rgb",
        split: "all",
        meta: { angle: Number(m[2]) },
      });
    }
    idsByCam.push(ids.sort((a, b) => a - b));
  }
  if (!sameNumbers(idsByCam[0], idsByCam[1])) {
    const onlyA = idsByCam[0].filter((p) => !idsByCam[1].includes(p));
    const onlyB = idsByCam[1].filter((p) => !idsByCam[0].includes(p));
    throw new AnnotationError(
      `${dataDir}: cam_a and cam_b must hold the same ids; only in cam_a: ${
        onlyA.slice(0, 10).join(", ")
      }` +
        `; only in cam_b: ${onlyB.slice(0, 10).join(", ")}`,
    );
  }
  const dataset: ReidDataset = {
    name: "viper",
    root: dataDir,
    images,
    attributeNames: [],
    attributeGroups: {},
    notes,
  };
  const halves = halfSplits(
    dataset,
    dataDir,
    idsByCam[0],
    seed,
    options.splits ?? 10,
    "viper/splits",
  );
  const trials: DatasetTrial[] = [];
  halves.forEach((trainIds, k) => {
    const inTrain = new Set(trainIds);
    const train: number[] = [];
    const a: number[] = [];
    const b: number[] = [];
    images.forEach((im, i) => {
      if (inTrain.has(im.pid)) train.push(i);
      else (im.camid === 1 ? a : b).push(i);
    });
    trials.push({ name: `split${k + 1}/a-to-b`, seed, train, query: a, gallery: b });
    trials.push({ name: `split${k + 1}/b-to-a`, seed, train, query: b, gallery: a });
  });
  dataset.trials = trials;
  return announce(dataset, options.verbose);
}
