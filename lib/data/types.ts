/**
 * The one dataset type every loader returns and every writer's ground truth
 * is stated in, whatever the on-disk layout (Market-1501, DukeMTMC-reID,
 * PETA, SYSU-MM01, RegDB, VIPeR, PRID2011).
 *
 * @module
 */

/** Imaging modality: visible light or (thermal/near-) infrared. */
export type Modality = "rgb" | "ir";

/**
 * The part of a dataset an image belongs to. Re-id sets use
 * train/query/gallery; attribute sets (PETA) use train/val/test; a set whose
 * split is drawn later per trial (VIPeR, PRID, SYSU test ids) uses "all".
 */
export type SplitName = "train" | "val" | "test" | "query" | "gallery" | "all";

/** One labelled image. */
export interface ReidImage {
  /** Absolute or dataset-relative path of the image file. */
  path: string;
  /**
   * Person identity as the release numbers it. In Market-1501's gallery, 0
   * marks distractors (false detections, ranked as negatives) and -1 junk
   * boxes (ignored by evaluation); loaders keep both (and say so).
   */
  pid: number;
  /** Camera index, 1-based as in the file names (c1, cam1, cam_a → 1). */
  camid: number;
  modality: Modality;
  split: SplitName;
  /**
   * Attribute labels aligned with {@link ReidDataset.attributeNames}: 1 / 0,
   * or -1 where the release leaves an attribute unlabelled. Absent when the
   * dataset has no attribute annotation.
   */
  attributes?: Int8Array;
  /** Release-specific extras kept for traceability (sequence, frame, trial, source folder…). */
  meta?: Record<string, string | number>;
}

/** A loaded dataset: images with labels, plus what is needed to read them. */
export interface ReidDataset {
  /** Preset name, e.g. "market1501", "sysu_mm01". */
  name: string;
  /** Folder the dataset was loaded from. */
  root: string;
  images: ReidImage[];
  /** Attribute names in label order (empty when there are none). */
  attributeNames: string[];
  /**
   * One-hot attribute groups by name (e.g. "upper_color" → indices of the
   * upper-colour attributes), so metrics and samplers can treat a group as one
   * categorical attribute.
   */
  attributeGroups: Record<string, number[]>;
  /**
   * Named evaluation trials drawn from the data (RegDB's 10 train/test splits,
   * VIPeR's random halves, SYSU's gallery draws). Each trial lists image
   * indices into {@link images}; the seed that drew it is recorded.
   */
  trials?: DatasetTrial[];
  /**
   * What the loader noticed and kept or skipped on purpose (non-image files in
   * image folders, ids without annotation, reused split files), so that
   * nothing is dropped silently.
   */
  notes?: string[];
  /**
   * Anomalies of the data that do not stop loading but may change results (empty camera
   * folders, listed ids without images, missing trials…), naming the ids or files: printed
   * on every load, even when the summary is not.
   */
  warnings?: string[];
}

/** A seeded (or release-given) evaluation split of a dataset. */
export interface DatasetTrial {
  name: string;
  /** Seed the trial was drawn with, or null when the release fixes it. */
  seed: number | null;
  train: number[];
  query: number[];
  gallery: number[];
}

/** A Market-style junk box (pid -1): kept by loaders, ignored by evaluation, never a training identity. */
export function isJunk(image: ReidImage): boolean {
  return image.pid === -1;
}

/**
 * A Market-style distractor (pid 0 in a gallery: a false detection ranked as a
 * negative). Elsewhere 0 is an ordinary id (VIPeR numbers persons from 000).
 */
export function isDistractor(image: ReidImage): boolean {
  return image.pid === 0 && image.split === "gallery";
}

/** True when the image shows a labelled person (neither junk nor a distractor). */
export function isIdentity(image: ReidImage): boolean {
  return !isJunk(image) && !isDistractor(image);
}

/** One query or gallery item as the evaluation sees it. */
export interface EvalItem {
  /** Person identity (for attribute queries: the source image's identity, or -1). */
  pid: number;
  /** Camera index, 1-based. */
  camid: number;
  modality?: Modality;
  /** Attribute labels; two items with identical vectors are in the same attribute category. */
  attributes?: ArrayLike<number>;
  /** An explicit attribute category; overrides {@link attributes} when given. */
  category?: string | number;
}
