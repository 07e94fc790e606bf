/**
 * The single-shot two-camera sets, as torchreid's `viper.py` and `prid.py`
 * read them:
 *
 * ```
 * VIPeR/cam_a/000_45.bmp   VIPeR/cam_b/000_90.bmp        (<pid 3 digits>_<viewpoint angle>.bmp, 128×48)
 * prid_2011/single_shot/cam_a/person_0001.png … person_<A>.png
 * prid_2011/single_shot/cam_b/person_0001.png … person_<B>.png   (128×64)
 * ```
 *
 * VIPeR: one image per identity per camera; the two cameras' files pair up
 * by their (sorted) position, i.e. by the 3-digit prefix. The angle in the
 * name is the person's viewpoint (0 front, 180 back, 90/270 side), taken from
 * the rendered shot. PRID2011: persons 1..S are seen by both cameras; cam_a
 * has A − S further persons and cam_b B − S further persons (the gallery
 * distractors of the single-shot protocol); numbers past S do not denote the
 * same person across cameras, so the ground truth gives cam_a-only persons
 * pid 100000 + n (file number in `meta.person`).
 *
 * @module
 */
import { Rng } from "../../runtime/random.ts";
import { type Identity, sampleIdentity } from "../world/identity.ts";
import { drawRgbCameras, sampleShot } from "../world/scene.ts";
import type { TwoCamConfig } from "../world/presets.ts";
import { type DatasetPlan, type ImageJob, imageSeed, pad, type SyntheticTruth } from "./plan.ts";

/** Release folder names. */
export const VIPER_DIR = "VIPeR";
/** Release folder name of PRID2011. */
export const PRID_DIR = "prid_2011";

/** Plans a VIPeR-layout dataset. */
export function planViper(cfg: TwoCamConfig, seed: number): DatasetPlan {
  const rng = new Rng(seed).fork("viper");
  const cameras = drawRgbCameras(rng.fork("cameras"), { ...cfg.cameras, count: 2 }, cfg.style);
  const jobs: ImageJob[] = [];
  const images: SyntheticTruth["images"] = [];
  const canvasW = (128 * cfg.width) / cfg.height;
  for (let i = 0; i < cfg.sharedIds; i++) {
    const identity = sampleIdentity(
      rng.fork(`identity:${i}`),
      `viper:${i}`,
      cfg.priors,
      cfg.appearance,
    );
    for (const c of [0, 1]) {
      const style = { ...cfg.style, views: cfg.views[c] };
      const shot = sampleShot(rng.fork(`shot:${i}:${c}`), cameras[c], style, canvasW);
      const facing = shot.flip ? -shot.facing : shot.facing;
      const angle = shot.view === "front" ? 0 : shot.view === "back" ? 180 : facing > 0 ? 90 : 270;
      const path = `cam_${"ab"[c]}/${pad(i, 3)}_${angle}.bmp`;
      jobs.push({
        path,
        identity,
        camera: cameras[c],
        style,
        width: cfg.width,
        height: cfg.height,
        format: "bmp",
        seed: imageSeed(rng, path),
        shot,
      });
      images.push({
        path,
        pid: i,
        camid: c + 1,
        modality: "rgb",
        split: "all",
        meta: { angle, identityKey: identity.key },
      });
    }
  }
  return {
    preset: "viper",
    releaseDir: VIPER_DIR,
    jobs,
    files: [],
    truth: {
      name: "viper",
      root: VIPER_DIR,
      attributeNames: [],
      attributeGroups: {},
      images,
      seed,
    },
  };
}

/** pid offset of cam_a-only PRID persons in the ground truth (they are not cam_b's person n). */
export const PRID_CAM_A_ONLY_OFFSET = 100000;

/** Plans a PRID2011 single-shot dataset. */
export function planPrid2011(cfg: TwoCamConfig, seed: number): DatasetPlan {
  const rng = new Rng(seed).fork("prid2011");
  const cameras = drawRgbCameras(rng.fork("cameras"), { ...cfg.cameras, count: 2 }, cfg.style);
  const jobs: ImageJob[] = [];
  const images: SyntheticTruth["images"] = [];
  const person = (key: string) =>
    sampleIdentity(rng.fork(`identity:${key}`), `prid2011:${key}`, cfg.priors, cfg.appearance);
  const add = (identity: Identity, c: number, n: number, pid: number) => {
    const path = `single_shot/cam_${"ab"[c]}/person_${pad(n, 4)}.png`;
    const style = { ...cfg.style, views: cfg.views[c] };
    jobs.push({
      path,
      identity,
      camera: cameras[c],
      style,
      width: cfg.width,
      height: cfg.height,
      format: "png",
      seed: imageSeed(rng, path),
    });
    images.push({
      path,
      pid,
      camid: c + 1,
      modality: "rgb",
      split: "all",
      meta: { person: n, identityKey: identity.key },
    });
  };
  for (let n = 1; n <= cfg.sharedIds; n++) {
    const id = person(`shared:${n}`);
    add(id, 0, n, n);
    add(id, 1, n, n);
  }
  // Persons past the shared range are different people in each camera: cam_b's keep their
  // number as pid, cam_a's are moved out of its way (the convention of lib/data/loaders/prid2011.ts).
  for (let k = 1; k <= cfg.onlyA; k++) {
    add(person(`a:${k}`), 0, cfg.sharedIds + k, PRID_CAM_A_ONLY_OFFSET + cfg.sharedIds + k);
  }
  for (let k = 1; k <= cfg.onlyB; k++) {
    add(person(`b:${k}`), 1, cfg.sharedIds + k, cfg.sharedIds + k);
  }
  return {
    preset: "prid2011",
    releaseDir: PRID_DIR,
    jobs,
    files: [],
    truth: {
      name: "prid2011",
      root: PRID_DIR,
      attributeNames: [],
      attributeGroups: {},
      images,
      seed,
    },
  };
}
