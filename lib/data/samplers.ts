/**
 * Batch samplers over a {@link ReidDataset}: each returns one epoch of batches
 * as indices into `dataset.images`, drawn from the {@link Rng} it is given
 * (pass `rng.fork("epoch" + e)` for epoch e), so a seed fixes every batch.
 *
 * - {@link identityBatches}: P identities × K images, as torchreid's
 *   `RandomIdentitySampler` (an identity with fewer than K images is sampled
 *   with replacement; each identity's images are dealt out in chunks of K).
 * - {@link crossModalBatches}: P identities × (K RGB + K IR), as AGW/cmGAN.
 * - {@link categoryBatches}: P attribute categories × K images (SAL, AAIPR: a
 *   category is one distinct attribute vector).
 * - {@link transferBatches}: a labelled source P×K batch with an unlabelled
 *   target batch (TJ-AIDL).
 *
 * @module
 */
import type { Rng } from "../runtime/random.ts";
import { isIdentity, type ReidDataset } from "./types.ts";

/** P groups × K members per batch. */
export interface PKOptions {
  p: number;
  k: number;
}

function checkPK({ p, k }: PKOptions): void {
  if (!Number.isInteger(p) || p < 1 || !Number.isInteger(k) || k < 1) {
    throw new Error(`sampler needs integer p ≥ 1 and k ≥ 1, got p=${p}, k=${k}`);
  }
}

/** Groups `indices` by `labelOf`, in first-seen order of the labels. */
function groupBy(indices: readonly number[], labelOf: (index: number) => number | string) {
  const groups = new Map<number | string, number[]>();
  for (const index of indices) {
    const label = labelOf(index);
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label)!.push(index);
  }
  return groups;
}

/**
 * P×K batches over groups (torchreid's RandomIdentitySampler scheme): every
 * group's members are shuffled (padded by sampling with replacement up to K)
 * and cut into chunks of K; while at least P groups have chunks left, P of
 * them are drawn and each gives its next chunk.
 */
export function groupBatches(
  groups: ReadonlyMap<number | string, readonly number[]>,
  options: PKOptions,
  rng: Rng,
): number[][] {
  checkPK(options);
  const { p, k } = options;
  if (groups.size < p) throw new Error(`sampler needs at least p=${p} groups, got ${groups.size}`);
  const chunks = new Map<number | string, number[][]>();
  for (const [label, members] of groups) {
    let pool = members.slice();
    if (pool.length < k) pool = Array.from({ length: k }, () => rng.choice(members));
    rng.shuffle(pool);
    const list: number[][] = [];
    for (let i = 0; i + k <= pool.length; i += k) list.push(pool.slice(i, i + k));
    chunks.set(label, list);
  }
  const available = [...chunks.keys()];
  const batches: number[][] = [];
  while (available.length >= p) {
    const chosen = rng.sample(available, p);
    const batch: number[] = [];
    for (const label of chosen) {
      const list = chunks.get(label)!;
      batch.push(...list.shift()!);
      if (list.length === 0) available.splice(available.indexOf(label), 1);
    }
    batches.push(batch);
  }
  return batches;
}

/**
 * One epoch of P identities × K images from `indices` (default: the "train"
 * split). Junk (pid −1) and gallery distractors (pid 0) are not identities
 * and are left out; see {@link isIdentity}.
 *
 * @see notebooks/00_introduction.ipynb §4 (P×K batches)
 */
export function identityBatches(
  dataset: ReidDataset,
  options: PKOptions,
  rng: Rng,
  indices: readonly number[] = splitIndices(dataset, "train"),
): number[][] {
  const usable = indices.filter((i) => isIdentity(dataset.images[i]));
  return groupBatches(groupBy(usable, (i) => dataset.images[i].pid), options, rng);
}

/** Indices of the images of one split. */
export function splitIndices(dataset: ReidDataset, split: string): number[] {
  return dataset.images.flatMap((im, i) => (im.split === split ? [i] : []));
}

/** One cross-modal batch: `rgb[j*K .. j*K+K)` and `ir[j*K .. j*K+K)` are identity `pids[j]`. */
export interface CrossModalBatch {
  pids: number[];
  rgb: number[];
  ir: number[];
}

/** Options of {@link crossModalBatches}. */
export interface CrossModalOptions extends PKOptions {
  /** Batches per epoch (default ⌈max(#RGB, #IR) / (P·K)⌉, AGW's epoch length). */
  batches?: number;
}

/**
 * One epoch of P identities × (K RGB + K IR) images. Identities are taken
 * from a shuffled queue (reshuffled when it runs out) so all appear equally
 * often and never twice in a batch; each takes K distinct images per modality
 * when it has them, else K with replacement. Only identities with both
 * modalities among `indices` are used.
 */
export function crossModalBatches(
  dataset: ReidDataset,
  options: CrossModalOptions,
  rng: Rng,
  indices: readonly number[] = splitIndices(dataset, "train"),
): CrossModalBatch[] {
  checkPK(options);
  const { p, k } = options;
  const rgb = groupBy(
    indices.filter((i) => dataset.images[i].modality === "rgb" && isIdentity(dataset.images[i])),
    (i) => dataset.images[i].pid,
  ) as Map<number, number[]>;
  const ir = groupBy(
    indices.filter((i) => dataset.images[i].modality === "ir" && isIdentity(dataset.images[i])),
    (i) => dataset.images[i].pid,
  ) as Map<number, number[]>;
  const ids = [...rgb.keys()].filter((pid) => ir.has(pid)).sort((a, b) => a - b);
  if (ids.length < p) {
    throw new Error(
      `crossModalBatches: ${ids.length} identities have both RGB and IR images, need p=${p}`,
    );
  }
  const nRgb = [...rgb.values()].reduce((s, v) => s + v.length, 0);
  const nIr = [...ir.values()].reduce((s, v) => s + v.length, 0);
  const count = options.batches ?? Math.ceil(Math.max(nRgb, nIr) / (p * k));
  const pick = (members: number[]) =>
    members.length >= k
      ? rng.sample(members, k)
      : Array.from({ length: k }, () => rng.choice(members));
  let queue: number[] = [];
  const batches: CrossModalBatch[] = [];
  for (let b = 0; b < count; b++) {
    const pids: number[] = [];
    while (pids.length < p) {
      if (queue.length === 0) queue = rng.shuffle(ids.filter((id) => !pids.includes(id)));
      const id = queue.shift()!;
      if (!pids.includes(id)) pids.push(id);
    }
    batches.push({
      pids,
      rgb: pids.flatMap((id) => pick(rgb.get(id)!)),
      ir: pids.flatMap((id) => pick(ir.get(id)!)),
    });
  }
  return batches;
}

/** Attribute categories (distinct attribute vectors) of some images. */
export interface AttributeCategories {
  /** One key per category: the attribute vector as a 0/1 string. */
  keys: string[];
  /** Category of each image index given (same order as `indices`). */
  categoryOf: Map<number, number>;
}

/** The attribute category of each image; images without attributes are an error. */
export function attributeCategories(
  dataset: ReidDataset,
  indices: readonly number[],
): AttributeCategories {
  const keys: string[] = [];
  const idOf = new Map<string, number>();
  const categoryOf = new Map<number, number>();
  for (const index of indices) {
    const attrs = dataset.images[index].attributes;
    if (!attrs) {
      throw new Error(
        `${dataset.name}: image ${dataset.images[index].path} has no attributes to form a category`,
      );
    }
    const key = Array.from(attrs, (v) => (v > 0 ? "1" : "0")).join("");
    if (!idOf.has(key)) {
      idOf.set(key, keys.length);
      keys.push(key);
    }
    categoryOf.set(index, idOf.get(key)!);
  }
  return { keys, categoryOf };
}

/** One epoch of P attribute categories × K images (SAL, AAIPR). */
export function categoryBatches(
  dataset: ReidDataset,
  options: PKOptions,
  rng: Rng,
  indices: readonly number[] = splitIndices(dataset, "train"),
): number[][] {
  const { categoryOf } = attributeCategories(dataset, indices);
  return groupBatches(groupBy(indices, (i) => categoryOf.get(i)!), options, rng);
}

/** A TJ-AIDL batch: labelled source images and unlabelled target images. */
export interface TransferBatch {
  /** Indices into the source dataset (P identities × K). */
  source: number[];
  /** Indices into the target dataset (labels not used). */
  target: number[];
}

/** Options of {@link transferBatches}. */
export interface TransferOptions extends PKOptions {
  /** Target images per batch (default P·K). */
  targetBatch?: number;
}

/**
 * One epoch of source identity batches (as {@link identityBatches}), each
 * paired with a target batch drawn without replacement from a shuffled pass
 * over `targetIndices` (a new pass starts when one runs out).
 */
export function transferBatches(
  source: ReidDataset,
  target: ReidDataset,
  options: TransferOptions,
  rng: Rng,
  sourceIndices: readonly number[] = splitIndices(source, "train"),
  targetIndices: readonly number[] = splitIndices(target, "train"),
): TransferBatch[] {
  const size = options.targetBatch ?? options.p * options.k;
  if (targetIndices.length < size) {
    throw new Error(
      `transferBatches: ${targetIndices.length} target images, need ${size} per batch`,
    );
  }
  const sourceBatches = identityBatches(source, options, rng.fork("source"), sourceIndices);
  const targetRng = rng.fork("target");
  let pass: number[] = [];
  return sourceBatches.map((batch) => {
    const t: number[] = [];
    while (t.length < size) {
      if (pass.length === 0) pass = targetRng.shuffle(targetIndices.filter((i) => !t.includes(i)));
      t.push(pass.shift()!);
    }
    return { source: batch, target: t };
  });
}
