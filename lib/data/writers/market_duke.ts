/**
 * Market-1501 and DukeMTMC-reID layouts (identical folder structure,
 * different file-name rules and attribute files).
 *
 * ```
 * Market-1501-v15.09.15/                 DukeMTMC-reID/
 *   bounding_box_train/0002_c1s1_000451_03.jpg   bounding_box_train/0001_c2_f0046182.jpg
 *   bounding_box_test/  (+ 0000_… distractors, -1_… junk)   bounding_box_test/ (+ gallery-only ids)
 *   query/                                 query/
 *   market_attribute.mat  (+ .json mirror)  duke_attribute.mat (+ .json mirror)
 * ```
 *
 * Market names: `<pid 4 digits | -1>_c<camera>s<sequence>_<frame 6 digits>_<box 2 digits>.jpg`;
 * in `bounding_box_test`, pid `0000` marks distractors (false detections) and
 * `-1` junk boxes that evaluation ignores (Market-1501 README). Duke names:
 * `<pid 4 digits>_c<camera>_f<frame 7 digits>.jpg`.
 *
 * Attribute files follow Lin et al.'s releases (vana77/Market-1501_Attribute,
 * vana77/DukeMTMC-attribute): a struct `market_attribute` / `duke_attribute`
 * with sub-structs `train` and `test`, each field a 1×N double row of 1/2 codes
 * (age 1–4) per identity, and `image_index` a 1×N cell of 4-digit id strings.
 * They are written as real MAT v5 files (lib/data/writers/mat5.ts) so a loader
 * reads the synthetic copy exactly as a user's download; a `.json` mirror with
 * the same nesting (`{"market_attribute": {"train": {"age": [..], ...,
 * "image_index": ["0002", ...]}, "test": {...}}}`) sits beside each, for
 * readers without a MAT parser.
 *
 * @module
 */
import { Rng } from "../../runtime/random.ts";
import type { ReidImage, SplitName } from "../types.ts";
import { type Identity, identityWithAttributes, sampleIdentity } from "../world/identity.ts";
import { pooledAttributes } from "../world/attribute_pool.ts";
import { drawRgbCameras } from "../world/scene.ts";
import type { ReidSetConfig } from "../world/presets.ts";
import { type AttributeSchema, DUKEMTMC_SCHEMA, MARKET1501_SCHEMA } from "../world/schemas.ts";
import { type DatasetPlan, type ImageJob, imageSeed, pad, type TextFile } from "./plan.ts";
import { doubleRow, type MatValue, stringCellRow, writeMat5 } from "./mat5.ts";

/** Market-1501 attribute fields in the order of the release's `test` struct. */
export const MARKET_ATTRIBUTE_FIELDS = [
  "age",
  "backpack",
  "bag",
  "handbag",
  "downblack",
  "downblue",
  "downbrown",
  "downgray",
  "downgreen",
  "downpink",
  "downpurple",
  "downwhite",
  "downyellow",
  "upblack",
  "upblue",
  "upgreen",
  "upgray",
  "uppurple",
  "upred",
  "upwhite",
  "upyellow",
  "clothes",
  "down",
  "up",
  "hair",
  "hat",
  "gender",
] as const;

/** DukeMTMC-reID attribute fields in the release's order. */
export const DUKE_ATTRIBUTE_FIELDS: readonly string[] = DUKEMTMC_SCHEMA.names;

type Kind = "market1501" | "dukemtmc_reid";

interface Person {
  pid: number;
  identity: Identity;
  split: "train" | "test" | "gallery_only";
}

/** Release folder names. */
export const MARKET_DIR = "Market-1501-v15.09.15";
/** Release folder name of DukeMTMC-reID. */
export const DUKE_DIR = "DukeMTMC-reID";

/** Plans a Market-1501-layout dataset. */
export function planMarket1501(cfg: ReidSetConfig, seed: number): DatasetPlan {
  return planReidSet("market1501", cfg, seed);
}

/** Plans a DukeMTMC-reID-layout dataset. */
export function planDukemtmcReid(cfg: ReidSetConfig, seed: number): DatasetPlan {
  return planReidSet("dukemtmc_reid", cfg, seed);
}

function planReidSet(kind: Kind, cfg: ReidSetConfig, seed: number): DatasetPlan {
  const rng = new Rng(seed).fork(kind);
  const cameras = drawRgbCameras(rng.fork("cameras"), cfg.cameras, cfg.style);
  const schema: AttributeSchema = kind === "market1501" ? MARKET1501_SCHEMA : DUKEMTMC_SCHEMA;
  const nIds = cfg.trainIds + cfg.testIds + cfg.galleryOnlyIds;
  // Ids are numbered with gaps and interleaved between splits, as in the releases.
  const idRange = kind === "market1501" ? nIds : nIds * 3;
  const pids = rng.fork("pids").sample(Array.from({ length: idRange }, (_, i) => i + 1), nIds);
  const nTest = cfg.testIds + cfg.galleryOnlyIds;
  // With a pool, persons share attribute vectors as in the releases; without, each draws its own.
  const pooled = cfg.attributePool
    ? pooledAttributes(
      rng.fork("attribute-pool"),
      cfg.attributePool,
      cfg.priors,
      schema,
      cfg.trainIds,
      nTest,
    )
    : null;
  const persons: Person[] = pids.map((pid, i) => {
    const r = rng.fork(`identity:${pid}`);
    const key = `${kind}:${pid}`;
    const attrs = pooled
      ? (i < cfg.trainIds ? pooled.train[i] : pooled.test[i - cfg.trainIds])
      : null;
    return {
      pid,
      identity: attrs
        ? identityWithAttributes(r, key, attrs, cfg.appearance)
        : sampleIdentity(r, key, cfg.priors, cfg.appearance),
      split: i < cfg.trainIds ? "train" : i < cfg.trainIds + cfg.testIds ? "test" : "gallery_only",
    };
  });
  persons.sort((a, b) => a.pid - b.pid);

  const jobs: ImageJob[] = [];
  const images: ReidImage[] = [];
  const usedNames = new Set<string>();
  const nCams = cameras.length;

  const nameFor = (
    pid: number,
    cam: number,
    r: Rng,
    folder: string,
  ): { name: string; meta: Record<string, number> } => {
    for (;;) {
      const frame = 1 + r.int(kind === "market1501" ? 199_999 : 9_999_999);
      const seq = 1 + r.int(6);
      const box = 1 + r.int(8);
      const id = pid === -1 ? "-1" : pad(pid, 4);
      const name = kind === "market1501"
        ? `${id}_c${cam}s${seq}_${pad(frame, 6)}_${pad(box, 2)}.jpg`
        : `${id}_c${cam}_f${pad(frame, 7)}.jpg`;
      if (usedNames.has(`${folder}/${name}`)) continue;
      usedNames.add(`${folder}/${name}`);
      return { name, meta: kind === "market1501" ? { sequence: seq, frame, box } : { frame } };
    }
  };

  const add = (
    identity: Identity,
    pid: number,
    cam: number,
    folder: string,
    split: SplitName,
    r: Rng,
    style = cfg.style,
  ) => {
    const { name, meta } = nameFor(pid, cam, r, folder);
    const path = `${folder}/${name}`;
    jobs.push({
      path,
      identity,
      camera: cameras[cam - 1],
      style,
      width: cfg.width,
      height: cfg.height,
      format: "jpg",
      seed: imageSeed(rng, path),
    });
    images.push({
      path,
      pid,
      camid: cam,
      modality: "rgb",
      split,
      attributes: pid > 0 ? schema.encode(identity.attributes) : undefined,
      meta: { ...meta, identityKey: identity.key },
    });
  };

  for (const p of persons) {
    const r = rng.fork(`layout:${p.pid}`);
    if (p.split === "train") {
      const n = cfg.trainImages[0] + r.int(cfg.trainImages[1] - cfg.trainImages[0] + 1);
      const cams = r.sample(range(1, nCams), Math.min(nCams, Math.max(2, 2 + r.int(3))));
      for (let k = 0; k < n; k++) {
        add(p.identity, p.pid, cams[k % cams.length], "bounding_box_train", "train", r);
      }
    } else if (p.split === "test") {
      const order = r.shuffle(range(1, nCams));
      const qCams = order.slice(0, cfg.queriesPerId);
      const otherCams = order.slice(cfg.queriesPerId);
      for (const c of qCams) add(p.identity, p.pid, c, "query", "query", r);
      for (let k = 0; k < cfg.galleryPerId; k++) {
        // The first gallery image comes from a camera no query uses, so every query has a cross-camera match.
        const c = k === 0 && otherCams.length > 0 ? otherCams[0] : r.int(nCams) + 1;
        add(p.identity, p.pid, c, "bounding_box_test", "gallery", r);
      }
    } else {
      add(p.identity, p.pid, r.int(nCams) + 1, "bounding_box_test", "gallery", r);
    }
  }
  // Market's false detections: partial bodies, off-centre, of people nobody labels.
  const partial = {
    ...cfg.style,
    shift: [16, 30] as [number, number],
    scale: [1.15, 1.6] as [number, number],
  };
  for (const [pid, count] of [[0, cfg.distractorImages], [-1, cfg.junkImages]] as const) {
    for (let i = 0; i < count; i++) {
      const r = rng.fork(`unlabelled:${pid}:${i}`);
      const stranger = sampleIdentity(
        r.fork("identity"),
        `${kind}:unlabelled:${pid}:${i}`,
        cfg.priors,
        cfg.appearance,
      );
      add(stranger, pid, r.int(nCams) + 1, "bounding_box_test", "gallery", r, partial);
    }
  }

  const files = attributeFiles(kind, schema, persons);
  const releaseDir = kind === "market1501" ? MARKET_DIR : DUKE_DIR;
  return {
    preset: kind,
    releaseDir,
    jobs,
    files,
    truth: {
      name: kind,
      root: releaseDir,
      attributeNames: schema.names,
      attributeGroups: schema.groups,
      images: images.map((im) => ({
        ...im,
        attributes: im.attributes ? Array.from(im.attributes) : undefined,
      })),
      seed,
      identities: Object.fromEntries(persons.map((p) => [p.identity.key, p.identity.attributes])),
    },
  };
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** The release's 1/2 (age 1–4) code of each field for a person. */
function releaseCodes(
  kind: Kind,
  schema: AttributeSchema,
  identity: Identity,
): Record<string, number> {
  const bits = schema.encode(identity.attributes);
  const codes: Record<string, number> = {};
  if (kind === "market1501") {
    for (const field of MARKET_ATTRIBUTE_FIELDS) {
      codes[field] = field === "age"
        ? identity.attributes.age + 1
        : bits[schema.names.indexOf(field)] + 1;
    }
  } else {
    for (const field of DUKE_ATTRIBUTE_FIELDS) codes[field] = bits[schema.names.indexOf(field)] + 1;
  }
  return codes;
}

function attributeFiles(kind: Kind, schema: AttributeSchema, persons: Person[]): TextFile[] {
  const fields = kind === "market1501" ? [...MARKET_ATTRIBUTE_FIELDS] : [...DUKE_ATTRIBUTE_FIELDS];
  const subset = (members: Person[]) => {
    const codes = members.map((p) => releaseCodes(kind, schema, p.identity));
    const json: Record<string, number[] | string[]> = {};
    const mat: [string, MatValue][] = [];
    for (const f of fields) {
      json[f] = codes.map((c) => c[f]);
      mat.push([f, doubleRow(json[f] as number[])]);
    }
    json.image_index = members.map((p) => pad(p.pid, 4));
    mat.push(["image_index", stringCellRow(json.image_index as string[])]);
    return { json, mat };
  };
  const train = subset(persons.filter((p) => p.split === "train"));
  // The test struct covers every gallery identity (Duke: 702 test + 408 gallery-only ids).
  const test = subset(persons.filter((p) => p.split !== "train"));
  const variable = kind === "market1501" ? "market_attribute" : "duke_attribute";
  const mat = writeMat5([[variable, {
    kind: "struct",
    fields: [["test", { kind: "struct", fields: test.mat }], ["train", {
      kind: "struct",
      fields: train.mat,
    }]],
  }]]);
  return [
    { path: `${variable}.mat`, content: mat },
    {
      path: `${variable}.json`,
      content: JSON.stringify({ [variable]: { test: test.json, train: train.json } }),
    },
  ];
}
