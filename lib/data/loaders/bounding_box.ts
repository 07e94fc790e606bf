/**
 * The layout Market-1501 and DukeMTMC-reID share: `bounding_box_train/`,
 * `bounding_box_test/` (the gallery) and `query/`, one image per file, the
 * identity and camera in the file name; optional identity-level attributes.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { isIdentity, type ReidDataset, type ReidImage, type SplitName } from "../types.ts";
import {
  AnnotationError,
  findDataDir,
  folderNotes,
  layoutError,
  listDir,
  listImages,
  type LoaderOptions,
  parseName,
} from "./common.ts";
import {
  attributeFileNames,
  type AttributeRelease,
  findAttributeFile,
  readReleaseAttributes,
} from "./release_attributes.ts";
import { announce } from "./summary.ts";

/** Options of the Market-1501 / DukeMTMC-reID loaders. */
export interface BoundingBoxOptions extends LoaderOptions {
  /**
   * The attribute annotation: a path, `false` for none, or undefined to look
   * for `<release>_attribute.mat|.json` in the data folder and its parents up
   * to `root`.
   */
  attributes?: string | false;
}

/** What differs between the releases sharing this layout. */
export interface BoundingBoxRelease {
  name: string;
  title: string;
  /** Sub-folders of root tried in order ("" = root itself). */
  candidates: string[];
  /** File-name pattern; groups: pid, camid, then release extras named in `extras`. */
  pattern: RegExp;
  patternText: string;
  extras: string[];
  example: string;
  cameras: number;
  attributeRelease: AttributeRelease;
}

const FOLDERS: [string, SplitName][] = [
  ["bounding_box_train", "train"],
  ["query", "query"],
  ["bounding_box_test", "gallery"],
];

/** Loads a Market-1501-style release. */
export function loadBoundingBoxRelease(
  release: BoundingBoxRelease,
  root: string,
  options: BoundingBoxOptions = {},
): ReidDataset {
  const required = FOLDERS.map(([folder]) => folder);
  const dataDir = findDataDir(root, release.candidates, required);
  if (!dataDir) {
    const nest = release.candidates.filter((c) => c !== "").join("/ or ");
    throw layoutError(
      release.name,
      root,
      `no ${release.title} folders under ${root}`,
      [
        `  ${root}/  (or ${nest}/ inside it)`,
        `    bounding_box_train/  ${release.example} …`,
        `    bounding_box_test/   (gallery; distractors 0000_… and junk -1_… included)`,
        `    query/`,
        `    ${attributeFileNames(release.attributeRelease).join(" or ")}  (optional)`,
      ].join("\n"),
    );
  }
  const images: ReidImage[] = [];
  const notes: string[] = [];
  for (const [folder, split] of FOLDERS) {
    const dir = join(dataDir, folder);
    const listed = listImages(dir);
    const files = listed.images;
    notes.push(...folderNotes(`${folder}/`, listed));
    for (const file of files) {
      const m = parseName(release.pattern, file, dir, release.patternText);
      const pid = Number(m[1]);
      const camid = Number(m[2]);
      if (camid < 1 || camid > release.cameras) {
        throw layoutError(
          release.name,
          root,
          `${join(dir, file)}: camera ${camid} outside 1..${release.cameras}`,
          `  names like ${release.example}`,
        );
      }
      const meta: Record<string, number> = {};
      release.extras.forEach((key, i) => (meta[key] = Number(m[3 + i])));
      images.push({ path: join(dir, file), pid, camid, modality: "rgb", split, meta });
    }
  }
  const unread = listDir(dataDir).filter((e) => e.isDirectory && !required.includes(e.name));
  if (unread.length) {
    notes.push(
      `not part of the protocol, not loaded: ${unread.map((e) => `${e.name}/`).join(", ")}`,
    );
  }
  const dataset: ReidDataset = {
    name: release.name,
    root: dataDir,
    images,
    attributeNames: [],
    attributeGroups: {},
    notes,
  };
  attachAttributes(dataset, release, root, dataDir, options.attributes);
  return announce(dataset, options.verbose);
}

function attachAttributes(
  dataset: ReidDataset,
  release: BoundingBoxRelease,
  root: string,
  dataDir: string,
  option: string | false | undefined,
): void {
  if (option === false) return;
  const folders: string[] = [dataDir];
  for (let dir = dataDir; dir.startsWith(root) && dir !== root;) {
    dir = dirname(dir);
    folders.push(dir);
  }
  const file = option ?? findAttributeFile(release.attributeRelease, folders);
  if (!file) {
    dataset.notes!.push(
      `no attribute annotation (${attributeFileNames(release.attributeRelease).join(" / ")}) found`,
    );
    return;
  }
  const attrs = readReleaseAttributes(file, release.attributeRelease);
  dataset.attributeNames = attrs.names;
  dataset.attributeGroups = attrs.groups;
  const missing = { train: new Set<number>(), test: new Set<number>() };
  const used = { train: new Set<number>(), test: new Set<number>() };
  let unlabelled = 0;
  for (const image of dataset.images) {
    if (!isIdentity(image)) {
      unlabelled++;
      continue;
    }
    const part = image.split === "train" ? "train" : "test";
    const vector = attrs[part].get(image.pid);
    if (!vector) missing[part].add(image.pid);
    else {
      image.attributes = vector;
      used[part].add(image.pid);
    }
  }
  for (const part of ["train", "test"] as const) {
    if (missing[part].size) {
      const ids = [...missing[part]].sort((a, b) => a - b);
      throw new AnnotationError(
        `${file}: the ${part} annotation has no labels for ${ids.length} id(s) present in the ` +
          `images: ${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""}`,
      );
    }
    const unused = attrs[part].size - used[part].size;
    if (unused > 0) {
      dataset.notes!.push(`${file}: ${unused} ${part} id(s) annotated but without images`);
    }
  }
  if (unlabelled) {
    dataset.notes!.push(`${unlabelled} distractor/junk image(s) kept without attribute labels`);
  }
}
