/**
 * PETA layout: ten source folders, each with its images and one `Label.txt`.
 *
 * ```
 * PETA dataset/
 *   3DPeS/archive/100_1.bmp  …  3DPeS/archive/Label.txt
 *   CAVIAR4REID/archive/…    CUHK/archive/…   …   VIPeR/archive/…
 * ```
 *
 * Each `Label.txt` line is `<pid> <label> <label> …`: a person number (unique
 * within its source) followed by the names of the attributes that person has,
 * from PETA's vocabulary (e.g. `personalMale`, `upperBodyBlack`,
 * `hairLong`). Images of person `<pid>` are named `<pid>_<k>.<ext>` (the
 * release's names all start with the person number and an underscore; the rest
 * varies by source). Formats and sizes differ by source, as in the release.
 *
 * Synthetic structure: `categories` distinct PETA-105 attribute vectors; each
 * category is worn by 1 + Poisson persons with their own appearance, each with
 * 2 + Poisson images — what SAL and AAIPR need to build attribute categories.
 *
 * @module
 */
import { Rng } from "../../runtime/random.ts";
import type { ReidImage } from "../types.ts";
import { sampleAttributes } from "../world/attributes.ts";
import { identityWithAttributes } from "../world/identity.ts";
import { drawRgbCameras } from "../world/scene.ts";
import type { ImageFormat } from "../world/encode.ts";
import type { PetaConfig } from "../world/presets.ts";
import { PETA_SCHEMA } from "../world/schemas.ts";
import { type DatasetPlan, type ImageJob, imageSeed, poisson } from "./plan.ts";

/** PETA's ten sources with the image format and a typical size (height × width) of each. */
export const PETA_SOURCES: readonly {
  name: string;
  format: ImageFormat;
  height: number;
  width: number;
}[] = [
  { name: "3DPeS", format: "bmp", height: 128, width: 56 },
  { name: "CAVIAR4REID", format: "jpg", height: 72, width: 36 },
  { name: "CUHK", format: "png", height: 160, width: 80 },
  { name: "GRID", format: "jpg", height: 128, width: 56 },
  { name: "i-LID", format: "jpg", height: 128, width: 56 },
  { name: "MIT", format: "jpg", height: 128, width: 64 },
  { name: "PRID", format: "png", height: 128, width: 64 },
  { name: "SARC3D", format: "bmp", height: 128, width: 56 },
  { name: "TownCentre", format: "png", height: 128, width: 48 },
  { name: "VIPeR", format: "bmp", height: 128, width: 48 },
];

/** Release folder name of PETA. */
export const PETA_DIR = "PETA dataset";

/** Plans a PETA-layout dataset. */
export function planPeta(cfg: PetaConfig, seed: number): DatasetPlan {
  const rng = new Rng(seed).fork("peta");
  const cameras = drawRgbCameras(rng.fork("cameras"), {
    ...cfg.cameras,
    count: PETA_SOURCES.length,
  }, cfg.style);
  // Distinct attribute vectors by rejection of duplicates (lib/papers/sal/README.md).
  const catRng = rng.fork("categories");
  const seen = new Set<string>();
  const categories = [];
  for (let tries = 0; categories.length < cfg.categories; tries++) {
    if (tries > cfg.categories * 200) {
      throw new Error(
        `peta: cannot draw ${cfg.categories} distinct attribute vectors from the prior`,
      );
    }
    const a = sampleAttributes(catRng, cfg.priors);
    const key = PETA_SCHEMA.encode(a).join("");
    if (seen.has(key)) continue;
    seen.add(key);
    categories.push(a);
  }
  const jobs: ImageJob[] = [];
  const images: ReidImage[] = [];
  const labels: string[][] = PETA_SOURCES.map(() => []);
  const nextPid = PETA_SOURCES.map(() => 1);
  const identities: Record<string, unknown> = {};
  categories.forEach((attrs, c) => {
    const r = rng.fork(`category:${c}`);
    const persons = 1 + poisson(r, cfg.extraPersonsMean);
    const bits = PETA_SCHEMA.encode(attrs);
    const names = PETA_SCHEMA.names.filter((_, i) => bits[i] === 1);
    for (let p = 0; p < persons; p++) {
      const s = r.int(PETA_SOURCES.length);
      const src = PETA_SOURCES[s];
      const pid = nextPid[s]++;
      const identity = identityWithAttributes(
        r.fork(`person:${p}`),
        `peta:${src.name}:${pid}`,
        attrs,
        cfg.appearance,
      );
      identities[identity.key] = attrs;
      labels[s].push(`${pid} ${names.join(" ")}`);
      const n = 2 + poisson(r, cfg.extraImagesMean);
      for (let k = 1; k <= n; k++) {
        const path = `${src.name}/archive/${pid}_${k}.${src.format}`;
        jobs.push({
          path,
          identity,
          camera: cameras[s],
          style: cfg.style,
          width: src.width,
          height: src.height,
          format: src.format,
          seed: imageSeed(rng, path),
        });
        images.push({
          path,
          pid,
          camid: s + 1,
          modality: "rgb",
          split: "all",
          attributes: bits,
          meta: { source: src.name, category: c, identityKey: identity.key },
        });
      }
    }
  });
  return {
    preset: "peta",
    releaseDir: PETA_DIR,
    jobs,
    files: PETA_SOURCES.map((src, s) => ({
      path: `${src.name}/archive/Label.txt`,
      content: labels[s].join("\n") + "\n",
    })),
    truth: {
      name: "peta",
      root: PETA_DIR,
      attributeNames: PETA_SCHEMA.names,
      attributeGroups: PETA_SCHEMA.groups,
      images: images.map((im) => ({ ...im, attributes: Array.from(im.attributes!) })),
      seed,
      identities,
    },
  };
}
