/**
 * RegDB (Nguyen et al., Sensors 2017): 412 identities, 10 visible and 10
 * thermal images each. Layout `Visible/<pid>/<name>.bmp`,
 * `Thermal/<pid>/<name>.bmp`, and the ten evaluation trials as index files
 * `idx/{train,test}_{visible,thermal}_<trial>.txt` (lines `<relative path>
 * <label>`), as read by AGW/DDAG.
 *
 * Visible images are camera 1 (rgb), thermal camera 2 (ir); every image has
 * split "all", the trials say which is which. Each index trial k gives two
 * trials sharing a training set: `trial<k>/visible-to-thermal` (visible
 * queries, thermal gallery) and `trial<k>/thermal-to-visible`. Without an
 * `idx/` folder, ten trials of half the ids each are drawn with the seed and
 * saved as `splits_seed<N>.json`.
 *
 * @module
 */
import { join, relative } from "node:path";
import { Rng } from "../../runtime/random.ts";
import type { DatasetTrial, ReidDataset, ReidImage } from "../types.ts";
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
import { announce } from "./summary.ts";

/** Options of {@link loadRegDB}. */
export interface RegDBOptions extends LoaderOptions {
  /** Trials to read from idx/ (default: every k in 1..10 whose four files exist). */
  trials?: number[];
}

const EXPECTED = (root: string) =>
  [
    `  ${root}/  (or RegDB/ inside it)`,
    `    Visible/<pid>/<name>.bmp   e.g. Visible/1/female_back_v_06264_1.bmp`,
    `    Thermal/<pid>/<name>.bmp`,
    `    idx/train_visible_1.txt  train_thermal_1.txt  test_visible_1.txt  test_thermal_1.txt  … _10`,
    `        (optional; lines "<relative path> <label>")`,
  ].join("\n");

interface IdxLine {
  index: number;
  label: number;
}

function readIdx(path: string, indexOf: Map<string, number>, images: ReidImage[]): IdxLine[] {
  const out: IdxLine[] = [];
  const labelToPid = new Map<number, number>();
  const lines = Deno.readTextFileSync(path).split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const m = line.trim().match(/^(\S+)\s+(-?\d+)$/);
    if (!m) {
      throw new AnnotationError(
        `${path}:${i + 1}: expected "<relative path> <label>", got "${line}"`,
      );
    }
    const rel = m[1].replaceAll("\\", "/").replace(/^\.?\//, "");
    const index = indexOf.get(rel);
    if (index === undefined) {
      throw new AnnotationError(`${path}:${i + 1}: ${rel} is not an image of the dataset`);
    }
    const label = Number(m[2]);
    const pid = images[index].pid;
    const known = labelToPid.get(label);
    if (known !== undefined && known !== pid) {
      throw new AnnotationError(
        `${path}:${i + 1}: label ${label} is given to ids ${known} and ${pid} (from the folders)`,
      );
    }
    labelToPid.set(label, pid);
    out.push({ index, label });
  });
  if (out.length === 0) throw new AnnotationError(`${path}: empty index file`);
  return out;
}

/** Loads RegDB from `root` (the release folder or a folder holding `RegDB/`). */
export function loadRegDB(root: string, options: RegDBOptions = {}): ReidDataset {
  const seed = seedOf(options);
  const dataDir = findDataDir(root, ["", "RegDB", "regdb/RegDB", "regdb"], ["Visible", "Thermal"]);
  if (!dataDir) {
    throw layoutError(
      "regdb",
      root,
      `no Visible/ and Thermal/ folders under ${root}`,
      EXPECTED(root),
    );
  }
  const images: ReidImage[] = [];
  const notes: string[] = [];
  const warnings: string[] = [];
  for (const [folder, camid, modality] of [["Visible", 1, "rgb"], ["Thermal", 2, "ir"]] as const) {
    const dir = join(dataDir, folder);
    for (const entry of listDir(dir)) {
      if (!entry.isDirectory) {
        notes.push(`${folder}/${entry.name}: ${entry.problem ?? "not an id folder"}, ignored`);
        continue;
      }
      const pid = Number(parseName(/^(\d+)$/, entry.name, dir, "<pid> folders (e.g. 1, 2, …)")[1]);
      const listed = listImages(join(dir, entry.name));
      const files = listed.images;
      notes.push(...folderNotes(`${folder}/${entry.name}/`, listed));
      for (const file of files) {
        images.push({
          path: join(dir, entry.name, file),
          pid,
          camid,
          modality,
          split: "all",
          meta: {},
        });
      }
    }
  }
  if (images.length === 0) {
    throw layoutError("regdb", root, `no images under ${dataDir}`, EXPECTED(root));
  }
  const indexOf = new Map(
    images.map((im, i) => [relative(dataDir, im.path).replaceAll("\\", "/"), i]),
  );
  const dataset: ReidDataset = {
    name: "regdb",
    root: dataDir,
    images,
    attributeNames: [],
    attributeGroups: {},
    notes,
    warnings,
  };
  const idxDir = join(dataDir, "idx");
  const trials: DatasetTrial[] = [];
  if (isDir(idxDir)) {
    const files = (k: number) =>
      ["train_visible", "train_thermal", "test_visible", "test_thermal"].map((s) =>
        join(idxDir, `${s}_${k}.txt`)
      );
    const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // A trial with some of its four files is broken, not absent: it is an error below.
    const wanted = options.trials ?? all.filter((k) => files(k).some(isFile));
    const absent = all.filter((k) => !wanted.includes(k) && !files(k).some(isFile));
    if (!options.trials && absent.length && wanted.length) {
      warnings.push(
        `${idxDir}: no index files for trial(s) ${absent.join(", ")}; evaluating trial(s) ${
          wanted.join(", ")
        } only (the release has 10)`,
      );
    }
    if (wanted.length === 0) {
      throw layoutError(
        "regdb",
        root,
        `idx/ has no complete trial (4 files per trial)`,
        EXPECTED(root),
      );
    }
    for (const k of wanted) {
      const missing = files(k).filter((f) => !isFile(f));
      if (missing.length) {
        throw layoutError(
          "regdb",
          root,
          `trial ${k}: missing ${
            missing.join(", ")
          } (each trial needs train_visible, train_thermal, test_visible and test_thermal)`,
          EXPECTED(root),
        );
      }
      const [trV, trT, teV, teT] = files(k).map((f) =>
        readIdx(f, indexOf, images).map((l) => l.index)
      );
      const trainIds = new Set([...trV, ...trT].map((i) => images[i].pid));
      const overlap = [...new Set([...teV, ...teT].map((i) => images[i].pid))].filter((p) =>
        trainIds.has(p)
      );
      if (overlap.length) notes.push(`trial ${k}: ${overlap.length} id(s) in both train and test`);
      const train = [...trV, ...trT];
      trials.push({
        name: `trial${k}/visible-to-thermal`,
        seed: null,
        train,
        query: teV,
        gallery: teT,
      });
      trials.push({
        name: `trial${k}/thermal-to-visible`,
        seed: null,
        train,
        query: teT,
        gallery: teV,
      });
    }
    notes.push(`trials ${wanted.join(",")} read from ${idxDir}`);
  } else {
    trials.push(...drawnTrials(dataset, dataDir, seed));
  }
  dataset.trials = trials;
  return announce(dataset, options.verbose);
}

function drawnTrials(dataset: ReidDataset, dataDir: string, seed: number): DatasetTrial[] {
  const ids = [...new Set(dataset.images.map((im) => im.pid))].sort((a, b) => a - b);
  const path = join(dataDir, `splits_seed${seed}.json`);
  const { value, reused } = loadOrDrawSplits<{ seed: number; train: number[][] }>(
    path,
    () => {
      const rng = new Rng(seed).fork("regdb/trials");
      const train = Array.from(
        { length: 10 },
        () => rng.sample(ids, Math.floor(ids.length / 2)).sort((a, b) => a - b),
      );
      return { seed, train };
    },
    (saved) => {
      if (saved.seed !== seed) return `seed ${saved.seed} ≠ ${seed}`;
      const known = new Set(ids);
      return saved.train?.length === 10 && saved.train.every((t) => t.every((p) => known.has(p)))
        ? null
        : "ids do not match the folders";
    },
  );
  dataset.notes!.push(
    `no idx/ folder: ${reused ? "reused" : "drew and saved"} 10 trials in ${path}`,
  );
  const out: DatasetTrial[] = [];
  value.train.forEach((trainIds, t) => {
    const inTrain = new Set(trainIds);
    const train: number[] = [];
    const vis: number[] = [];
    const th: number[] = [];
    dataset.images.forEach((im, i) => {
      if (inTrain.has(im.pid)) train.push(i);
      else (im.modality === "rgb" ? vis : th).push(i);
    });
    out.push({ name: `trial${t + 1}/visible-to-thermal`, seed, train, query: vis, gallery: th });
    out.push({ name: `trial${t + 1}/thermal-to-visible`, seed, train, query: th, gallery: vis });
  });
  return out;
}
