/**
 * SYSU-MM01 layout (wuancong/SYSU-MM01 README; AGW's `pre_process_sysu.py`):
 *
 * ```
 * SYSU-MM01/
 *   cam1/0001/0001.jpg …   cam2/ …   cam3/ (IR)   cam4/   cam5/   cam6/ (IR)
 *   exp/available_id.txt  exp/train_id.txt  exp/val_id.txt  exp/test_id.txt
 *   sysu_attribute/cam1_att.mat … cam6_att.mat      (PAENet's attribute release)
 * ```
 *
 * Each `exp/*_id.txt` is one line of comma-separated integer ids (no padding),
 * which loaders split on "," and format as `%04d` folder names. Image numbers
 * restart at 0001 in every `cam<k>/<id>` folder; an (id, camera) pair the
 * person never walked through has no folder. IR images (cameras 3 and 6) are
 * stored as 3-channel JPEGs with R = G = B.
 *
 * `sysu_attribute/camK_att.mat` holds a variable `camK_att`, an 8 × N uint8
 * matrix: column `pid − 1` is identity `pid` as labelled in camera K (gender,
 * hair, glasses, sleeve, dress, lower length, backpack, satchel; 1 = female,
 * long, yes, long, dress, long, yes, yes), and an all-ones column marks a pair
 * that does not exist (lib/papers/paenet/README.md, 'Synthetic world'). Backpack and satchel labels flip per
 * (id, camera) with the configured noise, as SYSU's view-dependent labels do.
 *
 * @module
 */
import { Rng } from "../../runtime/random.ts";
import type { ReidImage, SplitName } from "../types.ts";
import { pooledAttributes } from "../world/attribute_pool.ts";
import { identityWithAttributes, sampleIdentity } from "../world/identity.ts";
import type { SysuConfig } from "../world/presets.ts";
import { PAENET_SCHEMA } from "../world/schemas.ts";
import { type DatasetPlan, type ImageJob, imageSeed, pad, type TextFile } from "./plan.ts";
import { writeMat5 } from "./mat5.ts";

/** Release folder name of SYSU-MM01. */
export const SYSU_DIR = "SYSU-MM01";

/** Plans a SYSU-MM01-layout dataset. */
export function planSysuMm01(cfg: SysuConfig, seed: number): DatasetPlan {
  const rng = new Rng(seed).fork("sysu_mm01");
  const n = cfg.trainIds + cfg.valIds + cfg.testIds;
  if (n > cfg.maxId) throw new Error(`sysu_mm01: ${n} ids do not fit in 1..${cfg.maxId}`);
  const pids = rng.fork("pids").sample(Array.from({ length: cfg.maxId }, (_, i) => i + 1), n);
  const splitOf = new Map<number, "train" | "val" | "test">();
  pids.forEach((pid, i) =>
    splitOf.set(pid, i < cfg.trainIds ? "train" : i < cfg.trainIds + cfg.valIds ? "val" : "test")
  );
  const sorted = pids.slice().sort((a, b) => a - b);
  const jobs: ImageJob[] = [];
  const images: ReidImage[] = [];
  const maxPid = Math.max(...sorted);
  const attMats = cfg.cameras.map(() => new Uint8Array(8 * maxPid).fill(1));
  const identities: Record<string, unknown> = {};
  // With a pool, persons share attribute vectors (PAENet's ≈ 2.5 per vector); without, each draws its own.
  const pool = cfg.attributePool
    ? pooledAttributes(
      rng.fork("attribute-pool"),
      cfg.attributePool,
      cfg.priors,
      PAENET_SCHEMA,
      cfg.trainIds + cfg.valIds,
      cfg.testIds,
    )
    : null;
  const pooledOf = new Map(pids.map((pid, i) => {
    if (!pool) return [pid, null];
    const t = cfg.trainIds + cfg.valIds;
    return [pid, i < t ? pool.train[i] : pool.test[i - t]];
  }));
  for (const pid of sorted) {
    const split = splitOf.get(pid)!;
    const r = rng.fork(`layout:${pid}`);
    const pooled = pooledOf.get(pid) ?? null;
    const identity = pooled
      ? identityWithAttributes(rng.fork(`identity:${pid}`), `sysu:${pid}`, pooled, cfg.appearance)
      : sampleIdentity(rng.fork(`identity:${pid}`), `sysu:${pid}`, cfg.priors, cfg.appearance);
    identities[identity.key] = identity.attributes;
    const indoor = r.bernoulli(cfg.indoorProb);
    const present = cfg.cameras.map((cam) => {
      if (cam.id === 1 || cam.id === 2) return indoor;
      return r.bernoulli(1 - (cam.modality === "ir" ? cfg.dropIr : cfg.dropRgb));
    });
    // Every identity keeps at least one RGB and one IR camera, or it could not be matched across modalities.
    for (const modality of ["rgb", "ir"] as const) {
      if (!cfg.cameras.some((c, i) => c.modality === modality && present[i])) {
        const options = cfg.cameras.map((c, i) => [c, i] as const).filter(([c]) =>
          c.modality === modality && c.id !== 1 && c.id !== 2
        );
        present[r.choice(options)[1]] = true;
      }
    }
    const base = PAENET_SCHEMA.encode(identity.attributes);
    cfg.cameras.forEach((cam, ci) => {
      if (!present[ci]) return;
      const labels = Int8Array.from(base);
      if (r.bernoulli(cfg.labelNoise.backpack)) labels[6] = 1 - labels[6];
      if (r.bernoulli(cfg.labelNoise.satchel)) labels[7] = 1 - labels[7];
      // An all-ones column means "absent" in the release; never write a present pair that way.
      if (labels.every((v) => v === 1)) labels[7] = 0;
      for (let a = 0; a < 8; a++) attMats[ci][(pid - 1) * 8 + a] = labels[a];
      const count = split === "test"
        ? (cam.modality === "ir" ? cfg.testIrPerCam : cfg.testRgbPerCam)
        : (cam.modality === "ir" ? cfg.trainIrPerCam : cfg.trainRgbPerCam);
      for (let k = 1; k <= count; k++) {
        const path = `cam${cam.id}/${pad(pid, 4)}/${pad(k, 4)}.jpg`;
        jobs.push({
          path,
          identity,
          camera: cam,
          style: cfg.style,
          width: cfg.width,
          height: cfg.height,
          format: "jpg",
          seed: imageSeed(rng, path),
        });
        const splitName: SplitName = split === "test" ? "all" : split;
        images.push({
          path,
          pid,
          camid: cam.id,
          modality: cam.modality,
          split: splitName,
          attributes: labels,
          meta: { index: k, identityKey: identity.key },
        });
      }
    });
  }
  const idLine = (which: string) => sorted.filter((p) => splitOf.get(p) === which).join(",") + "\n";
  const files: TextFile[] = [
    { path: "exp/available_id.txt", content: sorted.join(",") + "\n" },
    { path: "exp/train_id.txt", content: idLine("train") },
    { path: "exp/val_id.txt", content: idLine("val") },
    { path: "exp/test_id.txt", content: idLine("test") },
    ...cfg.cameras.map((cam, ci) => ({
      path: `sysu_attribute/cam${cam.id}_att.mat`,
      content: writeMat5([[`cam${cam.id}_att`, {
        kind: "uint8" as const,
        rows: 8,
        cols: maxPid,
        data: attMats[ci],
      }]]),
    })),
  ];
  return {
    preset: "sysu_mm01",
    releaseDir: SYSU_DIR,
    jobs,
    files,
    truth: {
      name: "sysu_mm01",
      root: SYSU_DIR,
      attributeNames: PAENET_SCHEMA.names,
      attributeGroups: PAENET_SCHEMA.groups,
      images: images.map((im) => ({ ...im, attributes: Array.from(im.attributes!) })),
      seed,
      identities,
    },
  };
}
