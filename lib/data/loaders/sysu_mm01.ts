/**
 * SYSU-MM01 (Wu et al., ICCV 2017): RGB cameras 1, 2, 4, 5 and infrared
 * cameras 3, 6. Layout `cam<k>/<pid 4 digits>/<n 4 digits>.jpg`, with the id
 * lists `exp/train_id.txt`, `exp/val_id.txt`, `exp/test_id.txt` (one line of
 * comma-separated ids), as read by the release's evaluation code and AGW.
 *
 * Images of train ids get split "train", val ids "val", test ids "all" (their
 * query/gallery is drawn per trial). Trials follow the single-shot protocol:
 * queries are every infrared image of the test ids; each trial's gallery is
 * one random image per (test id, RGB camera) — cameras 1, 2, 4, 5 for
 * "all-search", 1, 2 for "indoor-search". Ten trials per mode are drawn once
 * with the seed and saved as `splits_seed<N>.json` beside the data.
 *
 * Attributes (optional) come from PAENet's release `sysu_attribute/camK_att.mat`:
 * a variable `camK_att`, 8 × N, whose column pid − 1 labels identity pid as
 * seen by camera K; an all-ones column (or pid > N) means the pair is not
 * labelled, and its images are kept without attributes (counted in a note).
 *
 * @module
 */
import { join, relative } from "node:path";
import { hashString, Rng } from "../../runtime/random.ts";
import type { DatasetTrial, Modality, ReidDataset, ReidImage, SplitName } from "../types.ts";
import {
  AnnotationError,
  findDataDir,
  folderNotes,
  isDir,
  isFile,
  layoutError,
  listDir,
  listImages,
  type LoaderOptions,
  loadOrDrawSplits,
  parseName,
  seedOf,
} from "./common.ts";
import { readMat } from "./matv5.ts";
import { announce } from "./summary.ts";

/** Options of {@link loadSysuMM01}. */
export interface SysuOptions extends LoaderOptions {
  /** Gallery trials drawn per search mode (default 10). */
  trials?: number;
  /**
   * Folder of PAENet's attribute release (`cam1_att.mat` … `cam6_att.mat`),
   * `false` for none; default `sysu_attribute/` in the data folder or beside it.
   */
  attributes?: string | false;
}

/** The 8 attributes of PAENet's SYSU-MM01 annotation, in its row order (1 = female, long hair, glasses, long sleeves, dress, long lower garment, backpack, satchel). */
export const SYSU_ATTRIBUTE_NAMES: readonly string[] = [
  "gender",
  "hair",
  "glasses",
  "sleeve",
  "dress",
  "lower_length",
  "backpack",
  "satchel",
];

/** Infrared cameras of SYSU-MM01. */
export const SYSU_IR_CAMERAS: readonly number[] = [3, 6];
/** RGB gallery cameras per search mode. */
export const SYSU_GALLERY_CAMERAS: Readonly<Record<"all" | "indoor", readonly number[]>> = {
  all: [1, 2, 4, 5],
  indoor: [1, 2],
};

const EXPECTED = (root: string) =>
  [
    `  ${root}/  (or SYSU-MM01/ inside it)`,
    `    cam1/ … cam6/     <pid>/<n>.jpg, e.g. cam1/0001/0001.jpg (cam3, cam6 infrared)`,
    `    exp/train_id.txt  one line: 1,2,4,5,…`,
    `    exp/val_id.txt`,
    `    exp/test_id.txt`,
  ].join("\n");

/** Reads one of the release's id lists (comma/space separated integers). */
export function readIdList(path: string): number[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new AnnotationError(`${path}: cannot read (${(error as Error).message})`);
  }
  const tokens = text.split(/[\s,]+/).filter((t) => t !== "");
  const bad = tokens.find((t) => !/^\d+$/.test(t));
  if (bad !== undefined) {
    throw new AnnotationError(`${path}: "${bad}" is not an id; expected comma-separated integers`);
  }
  return tokens.map(Number);
}

interface SavedSysu {
  seed: number;
  /** Fingerprint of the gallery candidates the trials were drawn from. */
  pool: string;
  trials: { name: string; gallery: string[] }[];
}

/** The first ids of a list, for warnings (sorted, at most 10, then a count). */
function idText(ids: number[], limit = 10): string {
  const sorted = [...ids].sort((a, b) => a - b);
  return sorted.slice(0, limit).join(", ") +
    (sorted.length > limit ? `, … ${sorted.length - limit} more` : "");
}

/** Loads SYSU-MM01 from `root` (the release folder or a folder holding `SYSU-MM01/`). */
export function loadSysuMM01(root: string, options: SysuOptions = {}): ReidDataset {
  const seed = seedOf(options);
  const cams = [1, 2, 3, 4, 5, 6].map((c) => `cam${c}`);
  const dataDir = findDataDir(root, ["", "SYSU-MM01", "sysu-mm01/SYSU-MM01"], [
    ...cams,
    "exp/train_id.txt",
    "exp/val_id.txt",
    "exp/test_id.txt",
  ]);
  if (!dataDir) {
    throw layoutError(
      "sysu_mm01",
      root,
      `no SYSU-MM01 camera folders and id lists under ${root}`,
      EXPECTED(root),
    );
  }
  const lists: [SplitName, string][] = [["train", "train_id.txt"], ["val", "val_id.txt"], [
    "all",
    "test_id.txt",
  ]];
  const splitOf = new Map<number, SplitName>();
  const listOf = new Map<number, string>();
  for (const [split, file] of lists) {
    const path = join(dataDir, "exp", file);
    for (const pid of readIdList(path)) {
      if (splitOf.has(pid)) {
        throw new AnnotationError(`${path}: id ${pid} is also listed in exp/${listOf.get(pid)}`);
      }
      splitOf.set(pid, split);
      listOf.set(pid, file);
    }
  }
  const images: ReidImage[] = [];
  const notes: string[] = [];
  const warnings: string[] = [];
  const unlisted = new Set<number>();
  const seen = new Set<number>();
  for (let camid = 1; camid <= 6; camid++) {
    const camDir = join(dataDir, `cam${camid}`);
    const modality: Modality = SYSU_IR_CAMERAS.includes(camid) ? "ir" : "rgb";
    const before = images.length;
    for (const entry of listDir(camDir)) {
      if (!entry.isDirectory) {
        notes.push(`cam${camid}/${entry.name}: ${entry.problem ?? "not an id folder"}, ignored`);
        continue;
      }
      const pid = Number(parseName(/^(\d+)$/, entry.name, camDir, "<pid> folders (e.g. 0001)")[1]);
      const idDir = join(camDir, entry.name);
      const listed = listImages(idDir);
      const files = listed.images;
      notes.push(...folderNotes(`cam${camid}/${entry.name}/`, listed));
      let split = splitOf.get(pid);
      if (split === undefined) {
        if (files.length) unlisted.add(pid);
        split = "all";
      }
      if (files.length) seen.add(pid);
      for (const file of files) {
        const n = Number(
          parseName(/^(\d+)\.(jpe?g|png|bmp)$/i, file, idDir, "<n>.jpg (e.g. 0001.jpg)")[1],
        );
        images.push({
          path: join(idDir, file),
          pid,
          camid,
          modality,
          split,
          meta: { list: listOf.get(pid) ?? "none", n },
        });
      }
    }
    if (images.length === before) {
      warnings.push(`cam${camid}/ (${modality}) holds no images: its camera is left out`);
    }
  }
  if (unlisted.size) {
    notes.push(
      `${unlisted.size} id(s) with images but in no exp/ list, kept as split "all": ${
        idText([...unlisted])
      }`,
    );
  }
  const listedEmpty = [...splitOf.keys()].filter((pid) => !seen.has(pid));
  if (listedEmpty.length) {
    warnings.push(
      `${listedEmpty.length} id(s) listed in exp/ have no images in any camera folder: ${
        idText(listedEmpty)
      }`,
    );
  }

  const dataset: ReidDataset = {
    name: "sysu_mm01",
    root: dataDir,
    images,
    attributeNames: [],
    attributeGroups: {},
    notes,
    warnings,
  };
  attachSysuAttributes(dataset, root, dataDir, options.attributes);
  dataset.trials = sysuTrials(dataset, dataDir, seed, options.trials ?? 10, splitOf);
  return announce(dataset, options.verbose);
}

function sysuTrials(
  dataset: ReidDataset,
  dataDir: string,
  seed: number,
  count: number,
  splitOf: Map<number, SplitName>,
): DatasetTrial[] {
  const indexOf = new Map(dataset.images.map((im, i) => [relative(dataDir, im.path), i]));
  const isTest = (im: ReidImage) => splitOf.get(im.pid) === "all" && dataset.images.length > 0;
  const train: number[] = [];
  const query: number[] = [];
  dataset.images.forEach((im, i) => {
    if (im.split === "train" || im.split === "val") train.push(i);
    else if (isTest(im) && im.modality === "ir") query.push(i);
  });
  if (query.length === 0) {
    throw new AnnotationError(
      `${join(dataDir, "exp", "test_id.txt")}: the ${
        [...splitOf.values()].filter((v) => v === "all").length
      } test id(s) have no infrared images in ${
        SYSU_IR_CAMERAS.map((c) => `cam${c}/`).join(", ")
      }; expected the queries of the single-shot protocol there`,
    );
  }
  // The draw depends on which gallery candidates exist: a changed set redraws (README).
  const candidates = dataset.images.filter((im) => isTest(im) && im.modality === "rgb")
    .map((im) => relative(dataDir, im.path)).sort();
  const pool = hashString(candidates.join("\n")).toString(16).padStart(8, "0") +
    `-${candidates.length}`;
  const draw = (): SavedSysu => {
    const rng = new Rng(seed).fork("sysu_mm01/gallery");
    const trials: SavedSysu["trials"] = [];
    for (const mode of ["all", "indoor"] as const) {
      for (let t = 0; t < count; t++) {
        const byIdCam = new Map<string, string[]>();
        for (const im of dataset.images) {
          if (!isTest(im) || !SYSU_GALLERY_CAMERAS[mode].includes(im.camid)) continue;
          const key = `${im.pid}/${im.camid}`;
          if (!byIdCam.has(key)) byIdCam.set(key, []);
          byIdCam.get(key)!.push(relative(dataDir, im.path));
        }
        const gallery = [...byIdCam.keys()].sort().map((key) => rng.choice(byIdCam.get(key)!));
        trials.push({ name: `${mode}-search/${t + 1}`, gallery });
      }
    }
    return { seed, pool, trials };
  };
  const path = join(dataDir, `splits_seed${seed}.json`);
  const { value, reused } = loadOrDrawSplits<SavedSysu>(path, draw, (saved) => {
    if (saved.seed !== seed) return `seed ${saved.seed} ≠ ${seed}`;
    if (saved.pool !== pool) return "the gallery images changed since the draw";
    if (saved.trials?.length !== 2 * count) {
      return `${saved.trials?.length} trials, expected ${2 * count}`;
    }
    const unknown = saved.trials.flatMap((t) => t.gallery).find((p) => !indexOf.has(p));
    return unknown ? `unknown image ${unknown}` : null;
  });
  dataset.notes!.push(`${reused ? "reused" : "drew and saved"} gallery trials in ${path}`);
  return value.trials.map((t) => ({
    name: t.name,
    seed,
    train,
    query,
    gallery: t.gallery.map((p) => indexOf.get(p)!),
  }));
}

function attachSysuAttributes(
  dataset: ReidDataset,
  root: string,
  dataDir: string,
  option: string | false | undefined,
): void {
  if (option === false) return;
  const folder = option ??
    [
      join(dataDir, "sysu_attribute"),
      join(dataDir, "..", "sysu_attribute"),
      join(root, "sysu_attribute"),
    ]
      .find(isDir);
  if (!folder) {
    dataset.notes!.push("no attribute annotation (sysu_attribute/camK_att.mat) found");
    return;
  }
  const columns = new Map<number, { file: string; n: number; data: Float64Array }>();
  for (const camid of new Set(dataset.images.map((im) => im.camid))) {
    const file = join(folder, `cam${camid}_att.mat`);
    if (!isFile(file)) throw new AnnotationError(`${file}: missing (camera ${camid} has images)`);
    const value = readMat(Deno.readFileSync(file), file)[`cam${camid}_att`];
    if (!value || value.kind !== "numeric" || value.dims.length !== 2 || value.dims[0] !== 8) {
      throw new AnnotationError(`${file}: expected a variable cam${camid}_att of shape 8 × N`);
    }
    const bad = value.data.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) {
      throw new AnnotationError(
        `${file}: label ${value.data[bad]} at row ${bad % 8 + 1}, column ${
          Math.floor(bad / 8) + 1
        }; expected 0/1`,
      );
    }
    columns.set(camid, { file, n: value.dims[1], data: value.data });
  }
  let unlabelled = 0;
  for (const image of dataset.images) {
    const { n, data } = columns.get(image.camid)!;
    const column = image.pid >= 1 && image.pid <= n
      ? data.subarray((image.pid - 1) * 8, image.pid * 8)
      : null;
    if (!column || column.every((v) => v === 1)) {
      unlabelled++;
      continue;
    }
    image.attributes = Int8Array.from(column);
  }
  dataset.attributeNames = [...SYSU_ATTRIBUTE_NAMES];
  dataset.attributeGroups = {};
  dataset.notes!.push(
    `attributes from ${folder}` +
      (unlabelled ? `; ${unlabelled} image(s) of unlabelled (id, camera) pairs kept without` : ""),
  );
}
