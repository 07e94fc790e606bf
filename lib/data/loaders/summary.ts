/**
 * The per-split summary every loader prints: identities, images, cameras and
 * modalities per split, junk/distractor images kept, trials drawn, and notes.
 *
 * @module
 */
import { isDistractor, isJunk, type ReidDataset, type SplitName } from "../types.ts";

/** Counts of one split. */
export interface SplitSummary {
  split: SplitName;
  images: number;
  /** Distinct identities, distractors (pid 0 in a gallery) and junk (pid -1) excluded. */
  ids: number;
  cameras: number[];
  rgb: number;
  ir: number;
  /** Images with pid -1 (Market-style junk boxes, ignored by evaluation) kept in the split. */
  junk: number;
  /** Images with pid 0 in a gallery (Market-style distractors: false detections) kept. */
  distractors: number;
  /** Images carrying an attribute vector. */
  withAttributes: number;
}

/** Counts per split, in a fixed split order. */
export function splitSummaries(dataset: ReidDataset): SplitSummary[] {
  const order: SplitName[] = ["train", "val", "test", "query", "gallery", "all"];
  const bySplit = new Map<SplitName, SplitSummary & { idSet: Set<number>; camSet: Set<number> }>();
  for (const image of dataset.images) {
    let s = bySplit.get(image.split);
    if (!s) {
      s = {
        split: image.split,
        images: 0,
        ids: 0,
        cameras: [],
        rgb: 0,
        ir: 0,
        junk: 0,
        distractors: 0,
        withAttributes: 0,
        idSet: new Set(),
        camSet: new Set(),
      };
      bySplit.set(image.split, s);
    }
    s.images++;
    if (isJunk(image)) s.junk++;
    else if (isDistractor(image)) s.distractors++;
    else s.idSet.add(image.pid);
    s.camSet.add(image.camid);
    if (image.modality === "ir") s.ir++;
    else s.rgb++;
    if (image.attributes) s.withAttributes++;
  }
  return order.filter((name) => bySplit.has(name)).map((name) => {
    const { idSet, camSet, ...rest } = bySplit.get(name)!;
    return { ...rest, ids: idSet.size, cameras: [...camSet].sort((a, b) => a - b) };
  });
}

/**
 * A readable multi-line summary of a loaded dataset.
 *
 * @see notebooks/00_introduction.ipynb §2 (the datasets and their layouts)
 */
export function summarize(dataset: ReidDataset): string {
  const lines = [`${dataset.name} (${dataset.root}): ${dataset.images.length} images`];
  lines.push("  split      ids  images  cameras           rgb     ir  junk  distr  attrs");
  for (const s of splitSummaries(dataset)) {
    lines.push(
      `  ${s.split.padEnd(8)} ${String(s.ids).padStart(5)} ${String(s.images).padStart(7)}  ${
        s.cameras.join(",").padEnd(14)
      } ${String(s.rgb).padStart(6)} ${String(s.ir).padStart(6)} ${String(s.junk).padStart(5)} ${
        String(s.distractors).padStart(6)
      } ${String(s.withAttributes).padStart(6)}`,
    );
  }
  if (dataset.attributeNames.length > 0) {
    const groups = Object.keys(dataset.attributeGroups);
    lines.push(
      `  attributes: ${dataset.attributeNames.length}` +
        (groups.length ? ` (groups: ${groups.join(", ")})` : ""),
    );
  }
  if (dataset.trials?.length) {
    const t = dataset.trials[0];
    lines.push(
      `  trials: ${dataset.trials.length} (first "${t.name}": train ${t.train.length}, ` +
        `query ${t.query.length}, gallery ${t.gallery.length}, seed ${t.seed})`,
    );
  }
  for (const warning of dataset.warnings ?? []) lines.push(`  WARNING: ${warning}`);
  for (const note of dataset.notes ?? []) lines.push(`  note: ${note}`);
  return lines.join("\n");
}

/** Prints {@link summarize} when `verbose` is not false, else only the warnings; returns the dataset. */
export function announce(dataset: ReidDataset, verbose: boolean | undefined): ReidDataset {
  if (verbose !== false) console.log(summarize(dataset));
  // Warnings may change results: they are printed even by a quiet load.
  else for (const w of dataset.warnings ?? []) console.warn(`${dataset.name}: WARNING: ${w}`);
  return dataset;
}
