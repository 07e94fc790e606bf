/**
 * RegDB layout, as the AGW / DDAG code reads it (`RegDBData`, `load_data`):
 *
 * ```
 * RegDB/
 *   Visible/<id>/<gender>_<view>_v_<frame 5 digits>_<k>.bmp
 *   Thermal/<id>/<gender>_<view>_t_<frame 5 digits>_<k>.bmp
 *   idx/train_visible_<t>.txt  train_thermal_<t>.txt  test_visible_<t>.txt  test_thermal_<t>.txt   (t = 1..10)
 *   attribute/regdb_att.txt        (only with `attributePool`: PAENet's RegDB-like world)
 * ```
 *
 * Identity folders are numbered 1..N without padding. Each idx line is
 * `<path relative to RegDB/> <label>`, separated by one space; labels are
 * 0-based and contiguous within a file (the identity's rank among that
 * file's identities), which is what the training code uses as class indices.
 * Visible image k and thermal image k of an identity are one simultaneous
 * capture: same pose and placement, different materials.
 *
 * With `cfg.attributePool` (PAENet only; the real RegDB has no attribute labels), persons wear
 * pooled 8-bit PAENet vectors (`lib/data/world/attribute_pool.ts`) and
 * `attribute/regdb_att.txt` lists one line per identity, `<id> <8 labels 0/1>` in PAENet's
 * order (gender, hair, glasses, sleeve, dress, lower length, backpack, satchel), the same label
 * for its visible and thermal images (one simultaneous capture: no view-dependent noise).
 * Without it the plan is the same as before, file for file.
 *
 * @module
 */
import { Rng } from "../../runtime/random.ts";
import type { DatasetTrial } from "../types.ts";
import { pooledAttributes } from "../world/attribute_pool.ts";
import { identityWithAttributes, sampleIdentity } from "../world/identity.ts";
import { PAENET_SCHEMA } from "../world/schemas.ts";
import { sampleShot } from "../world/scene.ts";
import type { RegdbConfig } from "../world/presets.ts";
import {
  type DatasetPlan,
  type ImageJob,
  imageSeed,
  pad,
  type SyntheticTruth,
  type TextFile,
} from "./plan.ts";

/** Release folder name of RegDB. */
export const REGDB_DIR = "RegDB";

/** Plans a RegDB-layout dataset. */
export function planRegdb(cfg: RegdbConfig, seed: number): DatasetPlan {
  const rng = new Rng(seed).fork("regdb");
  const [vis, thr] = cfg.cameras;
  const jobs: ImageJob[] = [];
  const images: SyntheticTruth["images"] = [];
  const byId = new Map<number, { vis: number[]; thr: number[] }>();
  const canvasW = (128 * cfg.width) / cfg.height;
  const pool = cfg.attributePool
    ? pooledAttributes(
      rng.fork("attribute-pool"),
      cfg.attributePool,
      cfg.priors,
      PAENET_SCHEMA,
      cfg.ids,
      0,
    ).train
    : null;
  const attLines: string[] = [];
  for (let id = 1; id <= cfg.ids; id++) {
    const identity = pool
      ? identityWithAttributes(
        rng.fork(`identity:${id}`),
        `regdb:${id}`,
        pool[id - 1],
        cfg.appearance,
      )
      : sampleIdentity(
        rng.fork(`identity:${id}`),
        `regdb:${id}`,
        cfg.priors,
        cfg.appearance,
      );
    const labels = pool ? Array.from(PAENET_SCHEMA.encode(identity.attributes)) : null;
    if (labels) attLines.push(`${id} ${labels.join(" ")}`);
    const gender = identity.attributes.female ? "female" : "male";
    const r = rng.fork(`layout:${id}`);
    const entry = { vis: [] as number[], thr: [] as number[] };
    byId.set(id, entry);
    let frame = r.int(90_000);
    for (let k = 1; k <= cfg.imagesPerId; k++) {
      frame += 1 + r.int(40);
      const shotV = sampleShot(r.fork(`shot:${k}:visible`), vis, cfg.style, canvasW);
      const own = sampleShot(r.fork(`shot:${k}:thermal`), thr, cfg.style, canvasW);
      // Same pose and placement in both images; background and sensor effects are the thermal camera's own.
      const shotT = {
        ...own,
        view: shotV.view,
        facing: shotV.facing,
        flip: shotV.flip,
        phase: shotV.phase,
        dx: shotV.dx,
        dy: shotV.dy,
        scale: shotV.scale,
      };
      for (
        const [cam, shot, folder, tag, list] of [[vis, shotV, "Visible", "v", entry.vis], [
          thr,
          shotT,
          "Thermal",
          "t",
          entry.thr,
        ]] as const
      ) {
        const path = `${folder}/${id}/${gender}_${shot.view}_${tag}_${pad(frame, 5)}_${k}.bmp`;
        list.push(images.length);
        jobs.push({
          path,
          identity,
          camera: cam,
          style: cfg.style,
          width: cfg.width,
          height: cfg.height,
          format: "bmp",
          seed: imageSeed(rng, path),
          shot,
        });
        images.push({
          path,
          pid: id,
          camid: cam.id,
          modality: cam.modality,
          split: "all",
          ...(labels ? { attributes: labels } : {}),
          meta: { index: k, frame, identityKey: identity.key },
        });
      }
    }
  }
  const files: TextFile[] = [];
  const trials: DatasetTrial[] = [];
  const allIds = [...byId.keys()];
  for (let t = 1; t <= cfg.trials; t++) {
    const ids = rng.fork(`trial:${t}`).shuffle(allIds.slice());
    const half = Math.floor(ids.length / 2);
    const train = ids.slice(0, half).sort((a, b) => a - b);
    const test = ids.slice(half).sort((a, b) => a - b);
    const list = (which: number[], mod: "vis" | "thr") =>
      which.flatMap((id, label) => byId.get(id)![mod].map((i) => `${images[i].path} ${label}`))
        .join("\n") + "\n";
    files.push(
      { path: `idx/train_visible_${t}.txt`, content: list(train, "vis") },
      { path: `idx/train_thermal_${t}.txt`, content: list(train, "thr") },
      { path: `idx/test_visible_${t}.txt`, content: list(test, "vis") },
      { path: `idx/test_thermal_${t}.txt`, content: list(test, "thr") },
    );
    trials.push({
      name: `trial${t}`,
      seed: null,
      train: train.flatMap((id) => [...byId.get(id)!.vis, ...byId.get(id)!.thr]),
      // Visible → thermal direction; thermal → visible swaps query and gallery.
      query: test.flatMap((id) => byId.get(id)!.vis),
      gallery: test.flatMap((id) => byId.get(id)!.thr),
    });
  }
  if (pool) files.push({ path: "attribute/regdb_att.txt", content: attLines.join("\n") + "\n" });
  return {
    preset: "regdb",
    releaseDir: REGDB_DIR,
    jobs,
    files,
    truth: {
      name: "regdb",
      root: REGDB_DIR,
      attributeNames: [],
      attributeGroups: {},
      images,
      trials,
      seed,
    },
  };
}
