/**
 * PETA (Deng et al., ACM MM 2014): ten source collections (3DPeS,
 * CAVIAR4REID, CUHK, GRID, i-LID, MIT, PRID, SARC3D, TownCentre, VIPeR), each
 * `PETA dataset/<SOURCE>/archive/` with its images and a `Label.txt` whose
 * lines are `<person key> <attribute> <attribute> …` (the attributes present
 * for that person, e.g. `personalMale upperBodyBlack lowerBodyJeans`). An
 * image's key is its whole file name, its name without extension, or the part
 * before the first "_" (sources differ: CUHK uses the file name, most others
 * `<key>_…`), tried in that order.
 *
 * The per-source vocabularies are merged into one attribute list (sorted, or
 * the `attributes` option's list); an attribute a line does not name is 0.
 * Colour attributes form one-hot groups (`upperBody_color`, `lowerBody_color`,
 * `hair_color`, `footwear_color`) and the age brackets the group `age`. Each
 * person key within a source is one identity (pids numbered 1.. in
 * folder/file order); camid is the source's position in {@link PETA_SOURCES}
 * + 1 (other folders follow). PETA has no official
 * split: images are split 9,500 / 1,900 / 7,600 in proportion (train / val /
 * test) with the seed and saved as `splits_seed<N>.json`.
 *
 * @module
 */
import { join, relative } from "node:path";
import { Rng } from "../../runtime/random.ts";
import type { ReidDataset, ReidImage, SplitName } from "../types.ts";
import {
  AnnotationError,
  folderNotes,
  isDir,
  isFile,
  layoutError,
  listDir,
  listImages,
  type LoaderOptions,
  loadOrDrawSplits,
  seedOf,
} from "./common.ts";
import { announce } from "./summary.ts";

/** Options of {@link loadPETA}. */
export interface PETAOptions extends LoaderOptions {
  /**
   * The attribute list, in label order (e.g. a paper's 35 attributes). Tokens
   * outside it are ignored (and counted in a note); default: every token seen.
   */
  attributes?: string[];
  /** "random" (default): seeded train/val/test by image; "none": every image "all". */
  split?: "random" | "none";
}

/** The ten PETA source collections as released. */
export const PETA_SOURCES: readonly string[] = [
  "3DPeS",
  "CAVIAR4REID",
  "CUHK",
  "GRID",
  "i-LID",
  "MIT",
  "PRID",
  "SARC3D",
  "TownCentre",
  "VIPeR",
];

const COLORS = "Black|Blue|Brown|Green|Grey|Orange|Pink|Purple|Red|White|Yellow";
const GROUP_PATTERNS: [string, RegExp][] = [
  ["upperBody_color", new RegExp(`^upperBody(${COLORS})$`)],
  ["lowerBody_color", new RegExp(`^lowerBody(${COLORS})$`)],
  ["hair_color", new RegExp(`^hair(${COLORS})$`)],
  ["footwear_color", new RegExp(`^footwear(${COLORS})$`)],
  ["age", /^personal(Less|Larger)\d+$/],
];

/** Proportions of PETA's customary 9,500 / 1,900 / 7,600 split. */
const SPLIT_FRACTIONS = { train: 9500 / 19000, val: 1900 / 19000 };

/** One Label.txt: key → attribute tokens, and where its last token is (see below). */
interface LabelFile {
  path: string;
  labels: Map<string, string[]>;
  /** When the file does not end with a line break: the last line's number and last token. */
  unterminated: { line: number; token: string } | null;
}

function readLabels(path: string): LabelFile {
  const out = new Map<string, string[]>();
  const text = Deno.readTextFileSync(path);
  const lines = text.split(/\r?\n/);
  let last: { line: number; token: string } | null = null;
  lines.forEach((line, i) => {
    const tokens = line.trim().split(/\s+/).filter((t) => t !== "");
    if (tokens.length === 0) return;
    if (out.has(tokens[0])) {
      throw new AnnotationError(`${path}:${i + 1}: key ${tokens[0]} is labelled twice`);
    }
    out.set(tokens[0], tokens.slice(1));
    if (tokens.length > 1) last = { line: i + 1, token: tokens[tokens.length - 1] };
    else last = null;
  });
  const terminated = /\n\s*$/.test(text) || text.trim() === "";
  return { path, labels: out, unterminated: terminated ? null : last };
}

/**
 * A Label.txt cut short (a copy interrupted mid-file) ends without a line break, its last
 * token cut: that token would become a new attribute of its own. It is an error when the
 * token appears nowhere else in the dataset's labels (a complete last line names known
 * attributes, so it passes).
 */
function checkTruncation(files: LabelFile[], vocabularyCount: Map<string, number>): void {
  for (const file of files) {
    const u = file.unterminated;
    if (!u || (vocabularyCount.get(u.token) ?? 0) > 1) continue;
    const longer = [...vocabularyCount.keys()].find((t) => t !== u.token && t.startsWith(u.token));
    throw new AnnotationError(
      `${file.path}:${u.line}: the file ends mid-line and its last token "${u.token}" is ` +
        `labelled nowhere else${longer ? ` (cut from "${longer}"?)` : ""}; the file looks ` +
        "truncated: expected complete lines of attribute names ending with a line break",
    );
  }
}

/** The Label.txt key of an image file, or null. */
function keyOf(file: string, labels: Map<string, string[]>): string | null {
  const stem = file.replace(/\.[^.]+$/, "");
  const prefix = file.match(/^([^_.]+)/)?.[1];
  for (const key of [file, stem, prefix]) if (key !== undefined && labels.has(key)) return key;
  return null;
}

/** Loads PETA from `root` (the `PETA dataset` folder or a folder holding it). */
export function loadPETA(root: string, options: PETAOptions = {}): ReidDataset {
  const seed = seedOf(options);
  const expected = [
    `  ${root}/  (or "PETA dataset"/ inside it)`,
    `    3DPeS/archive/  images + Label.txt ("<key> attr attr …" per line)`,
    `    CAVIAR4REID/archive/ … VIPeR/archive/  (any subset of the ten sources)`,
  ].join("\n");
  const candidates = ["", "PETA dataset", "PETA", "peta/PETA dataset"];
  const dataDir =
    candidates.map((c) => (c === "" ? root : join(root, c))).find((dir) =>
      isDir(dir) &&
      listDir(dir).some((e) => e.isDirectory && isFile(join(dir, e.name, "archive", "Label.txt")))
    ) ?? null;
  if (!dataDir) {
    throw layoutError("peta", root, `no <SOURCE>/archive/Label.txt under ${root}`, expected);
  }

  const images: ReidImage[] = [];
  const tokensOf: string[][] = [];
  const notes: string[] = [];
  const vocabulary = new Set<string>();
  const vocabularyCount = new Map<string, number>();
  const labelFiles: LabelFile[] = [];
  let pid = 0;
  const top = listDir(dataDir);
  for (const e of top) if (e.problem) notes.push(`${e.name}: ${e.problem}, skipped`);
  const sources = top.filter((e) => e.isDirectory);
  let extraSources = 0;
  for (const source of sources) {
    const archive = join(dataDir, source.name, "archive");
    const labelFile = join(archive, "Label.txt");
    if (!isFile(labelFile)) {
      notes.push(`${source.name}/: no archive/Label.txt, skipped`);
      continue;
    }
    const known = PETA_SOURCES.indexOf(source.name);
    if (known < 0) notes.push(`${source.name}: not one of the ten PETA sources, loaded anyway`);
    const camid = known >= 0 ? known + 1 : PETA_SOURCES.length + ++extraSources;
    const labelData = readLabels(labelFile);
    labelFiles.push(labelData);
    const labels = labelData.labels;
    for (const tokens of labels.values()) {
      for (const t of tokens) vocabularyCount.set(t, (vocabularyCount.get(t) ?? 0) + 1);
    }
    const listed = listImages(archive);
    const files = listed.images;
    notes.push(
      ...folderNotes(`${source.name}/archive/`, {
        ...listed,
        others: listed.others.filter((f) => f !== "Label.txt"),
      }),
    );
    const pidOfKey = new Map<string, number>();
    const unlabelled: string[] = [];
    for (const file of files) {
      const key = keyOf(file, labels);
      if (key === null) {
        unlabelled.push(file);
        continue;
      }
      if (!pidOfKey.has(key)) pidOfKey.set(key, ++pid);
      const tokens = labels.get(key)!;
      tokens.forEach((t) => vocabulary.add(t));
      tokensOf.push(tokens);
      images.push({
        path: join(archive, file),
        pid: pidOfKey.get(key)!,
        camid,
        modality: "rgb",
        split: "all",
        meta: { source: source.name, key },
      });
    }
    if (unlabelled.length) {
      throw new AnnotationError(
        `${labelFile}: no label line for ${unlabelled.length} image(s) of ${archive}: ` +
          `${
            unlabelled.slice(0, 5).join(", ")
          } (keys tried: file name, name without extension, prefix before "_")`,
      );
    }
    if (labels.size === 0 && files.length === 0) {
      notes.push(`${source.name}: empty (no labels, no images)`);
    }
    const unused = labels.size - pidOfKey.size;
    if (unused) notes.push(`${source.name}: ${unused} Label.txt key(s) without images`);
  }
  if (images.length === 0) {
    throw layoutError("peta", root, `no labelled images under ${dataDir}`, expected);
  }
  checkTruncation(labelFiles, vocabularyCount);

  const names = options.attributes ?? [...vocabulary].sort();
  const column = new Map(names.map((n, i) => [n, i]));
  const unknown = [...vocabulary].filter((t) => !column.has(t));
  if (unknown.length) {
    notes.push(
      `${unknown.length} label token(s) outside the attribute list ignored: ${
        unknown.slice(0, 8).join(", ")
      }`,
    );
  }
  const absent = names.filter((n) => !vocabulary.has(n));
  if (absent.length) {
    notes.push(
      `${absent.length} listed attribute(s) never labelled: ${absent.slice(0, 8).join(", ")}`,
    );
  }
  images.forEach((im, i) => {
    const v = new Int8Array(names.length);
    for (const t of tokensOf[i]) {
      const c = column.get(t);
      if (c !== undefined) v[c] = 1;
    }
    im.attributes = v;
  });
  const groups: Record<string, number[]> = {};
  for (const [group, pattern] of GROUP_PATTERNS) {
    const members = names.flatMap((n, i) => (pattern.test(n) ? [i] : []));
    if (members.length) groups[group] = members;
  }
  const dataset: ReidDataset = {
    name: "peta",
    root: dataDir,
    images,
    attributeNames: names,
    attributeGroups: groups,
    notes,
  };
  if ((options.split ?? "random") === "random") assignSplits(dataset, dataDir, seed);
  return announce(dataset, options.verbose);
}

function assignSplits(dataset: ReidDataset, dataDir: string, seed: number): void {
  const rel = dataset.images.map((im) => relative(dataDir, im.path));
  const indexOf = new Map(rel.map((p, i) => [p, i]));
  const path = join(dataDir, `splits_seed${seed}.json`);
  const { value, reused } = loadOrDrawSplits<
    { seed: number; images: number; val: string[]; test: string[] }
  >(
    path,
    () => {
      const order = new Rng(seed).fork("peta/split").shuffle(rel.slice());
      const nTrain = Math.round(order.length * SPLIT_FRACTIONS.train);
      const nVal = Math.round(order.length * SPLIT_FRACTIONS.val);
      return {
        seed,
        images: rel.length,
        val: order.slice(nTrain, nTrain + nVal).sort(),
        test: order.slice(nTrain + nVal).sort(),
      };
    },
    (saved) => {
      if (saved.seed !== seed) return `seed ${saved.seed} ≠ ${seed}`;
      if (saved.images !== rel.length) {
        return `drawn for ${saved.images} images, found ${rel.length}`;
      }
      const unknown = [...saved.val, ...saved.test].find((p) => !indexOf.has(p));
      return unknown ? `unknown image ${unknown}` : null;
    },
  );
  const split = new Array<SplitName>(rel.length).fill("train");
  for (const p of value.val) split[indexOf.get(p)!] = "val";
  for (const p of value.test) split[indexOf.get(p)!] = "test";
  dataset.images.forEach((im, i) => (im.split = split[i]));
  dataset.notes!.push(
    `${reused ? "reused" : "drew and saved"} the train/val/test split in ${path}`,
  );
}
